<?php
// Router for `php -S`: does what a real server's configuration would. Static files are
// served as they are; PHP files run; every other path goes through WordPress's front
// controller, as rewrite rules would send it, so pretty permalinks and /wp-json/ work.

// Debian's wp-config.php picks its config file by $_SERVER['WORDPRESS_CONFIG'] (Apache's
// SetEnv); the built-in server leaves the environment out of $_SERVER.
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');

$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
$root = $_SERVER['DOCUMENT_ROOT'];

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

$script = '/index.php';
if (is_file($root . $path)) {
    if (!str_ends_with($path, '.php')) {
        return false;
    }
    $script = $path;
} elseif (is_file($root . rtrim($path, '/') . '/index.php')) {
    $script = rtrim($path, '/') . '/index.php';
}
$_SERVER['SCRIPT_NAME'] = $script;
$_SERVER['PHP_SELF'] = $script;
$_SERVER['SCRIPT_FILENAME'] = $root . $script;
chdir(dirname($root . $script));
require $root . $script;
