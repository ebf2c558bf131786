<?php
// Router for `php -S`: files are served as they are (PHP ones run), every other path goes
// through WordPress's front controller, as the rewrite rules of a real server would send
// it, so pretty permalinks and /wp-json/ work.
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));

// Debian keeps wp-content (uploads among it) outside the document root; README.Debian has
// web servers alias it, as this does.
if (str_starts_with($path, '/wp-content/') && !str_contains($path, '..')) {
    $file = '/var/lib/wordpress' . $path;
    if (is_file($file) && !str_ends_with($file, '.php')) {
        header('Content-Type: ' . (mime_content_type($file) ?: 'application/octet-stream'));
        header('Content-Length: ' . filesize($file));
        readfile($file);
        return true;
    }
}

$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && (is_file($file) || is_file(rtrim($file, '/') . '/index.php'))) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
chdir($_SERVER['DOCUMENT_ROOT']);
require 'index.php';
