<?php
// Run by setup.sh with php-cli: installs the site once, then (every run) makes sure of the
// users and issues fresh application passwords. Prints WP_USER, WP_APP_PASSWORD,
// WP_AUTHOR_ID, WP_ADMIN_USER and WP_ADMIN_APP_PASSWORD lines.
//
//   php install.php HOST:PORT
if (PHP_SAPI !== 'cli' || $argc !== 2) {
    fwrite(STDERR, "usage: php install.php HOST:PORT\n");
    exit(2);
}
$_SERVER['HTTP_HOST'] = $argv[1];
$_SERVER['SERVER_NAME'] = explode(':', $argv[1])[0];
$_SERVER['REQUEST_URI'] = '/';
// Lets wp-load.php run before the site is installed instead of redirecting to install.php.
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (!is_blog_installed()) {
    // No mail server here: the notice to the admin would only warn.
    add_filter('pre_wp_mail', '__return_false');
    wp_install('Pressfeed Test Newsroom', 'admin', 'admin@example.test', false, '',
        wp_generate_password(24));
    // A newsroom starts empty: no sample post, page or comment.
    foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $post) {
        wp_delete_post($post->ID, true);
    }
    fwrite(STDERR, "wordpress setup: installed the site\n");
}
// A site away from UTC, as most newsrooms are: a client must use the GMT dates.
update_option('timezone_string', 'America/New_York');
// Pretty permalinks, so /wp-json/ is routed the way real sites have it.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');
flush_rewrite_rules(false);

function ensure_user(string $login, string $name, string $role): int
{
    $user = get_user_by('login', $login);
    if ($user) {
        return $user->ID;
    }
    $id = wp_insert_user([
        'user_login' => $login,
        'user_pass' => wp_generate_password(24),
        'user_email' => "$login@example.test",
        'display_name' => $name,
        'first_name' => explode(' ', $name)[0],
        'last_name' => explode(' ', $name)[1],
        'role' => $role,
    ]);
    if (is_wp_error($id)) {
        fwrite(STDERR, "wordpress setup: cannot create $login: " . $id->get_error_message() . "\n");
        exit(1);
    }
    return $id;
}

// The desk that pressfeed and the test sign in as: editors may make terms, upload media,
// post iframes (unfiltered_html) and publish under an author's name.
$desk = ensure_user('newsdesk', 'News Desk', 'editor');
// The byline of the test posts.
$author = ensure_user('ada', 'Ada Lovelace', 'author');

// A fresh application password of `$user`; the old ones go.
function app_password(int $user): string
{
    WP_Application_Passwords::delete_all_application_passwords($user);
    $created = WP_Application_Passwords::create_new_application_password($user, ['name' => 'pressfeed tests']);
    if (is_wp_error($created)) {
        fwrite(STDERR, "wordpress setup: no application password: " . $created->get_error_message() . "\n");
        exit(1);
    }
    return $created[0];
}

echo "WP_USER=newsdesk\n";
echo "WP_APP_PASSWORD=" . app_password($desk) . "\n";
echo "WP_AUTHOR_ID=$author\n";
// Only an administrator may make users and rename them (the rename test's bylines).
echo "WP_ADMIN_USER=admin\n";
echo "WP_ADMIN_APP_PASSWORD=" . app_password(get_user_by('login', 'admin')->ID) . "\n";
