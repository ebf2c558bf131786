<?php
/**
 * Plugin Name: pressfeed poll
 * Description: Asks pressfeed to poll this site when a post is published, edited, unpublished or deleted, so the change reaches the feeds in about a second instead of at the next scheduled poll.
 * Version: 1.0.0
 * Requires at least: 5.7
 * License: MIT
 *
 * Settings, in wp-config.php (without all three the plugin does nothing):
 *
 *   define('PRESSFEED_URL', 'https://feeds.example.com');  // pressfeed, as this server reaches it
 *   define('PRESSFEED_SOURCE', 'newsroom');                 // this site's [[sources]] name
 *   define('PRESSFEED_TOKEN', '...');                       // a pressfeed admin token, scope articles
 *
 * Install it as a must-use plugin (copy this file to wp-content/mu-plugins/) or as a
 * plugin (wp-content/plugins/, then activate it). It sends one
 * `POST {PRESSFEED_URL}/admin/api/sources/{PRESSFEED_SOURCE}/poll` at the end of a request
 * that changed a post, however many changes it made, and does not wait for the answer.
 * Nothing it does can fail a save: when pressfeed is down the call fails, the error goes
 * to the PHP error log, and pressfeed's scheduled poll brings the change later.
 */

defined('ABSPATH') || exit;

if (defined('PRESSFEED_URL') && defined('PRESSFEED_SOURCE') && defined('PRESSFEED_TOKEN')) {
    add_action('transition_post_status', 'pressfeed_poll_on_transition', 10, 3);
    add_action('post_updated', 'pressfeed_poll_on_update', 10, 3);
    add_action('before_delete_post', 'pressfeed_poll_on_delete', 10, 2);
    // At the end of the request: by then the post's terms, featured image and meta are
    // saved too (the REST API and the editor save them after the post itself).
    add_action('shutdown', 'pressfeed_poll_send');
}

/**
 * Whether a poll is due at the end of this request; `$due` sets it.
 */
function pressfeed_poll_due($due = null)
{
    static $pending = false;
    if ($due !== null) {
        $pending = $pending || $due;
    }
    return $pending;
}

/**
 * Only posts: pressfeed's WordPress source reads `/wp/v2/posts`; revisions and autosaves
 * are never published.
 */
function pressfeed_poll_watches($post)
{
    return $post instanceof WP_Post
        && $post->post_type === 'post'
        && !wp_is_post_revision($post)
        && !wp_is_post_autosave($post);
}

/** Published, or no longer published (drafted, trashed, made private). */
function pressfeed_poll_on_transition($new_status, $old_status, $post)
{
    if (($new_status === 'publish' || $old_status === 'publish') && pressfeed_poll_watches($post)) {
        pressfeed_poll_due(true);
    }
}

/** A published post edited: its content, title, excerpt, terms or date. */
function pressfeed_poll_on_update($post_id, $post_after, $post_before)
{
    if ($post_after->post_status === 'publish' && pressfeed_poll_watches($post_after)) {
        pressfeed_poll_due(true);
    }
}

/** A published post deleted for good, past the trash. */
function pressfeed_poll_on_delete($post_id, $post = null)
{
    $post = $post ?: get_post($post_id);
    if ($post && $post->post_status === 'publish' && pressfeed_poll_watches($post)) {
        pressfeed_poll_due(true);
    }
}

function pressfeed_poll_send()
{
    if (!pressfeed_poll_due()) {
        return;
    }
    // Under PHP-FPM the editor gets its answer first, so a slow network never delays it.
    if (function_exists('fastcgi_finish_request')) {
        fastcgi_finish_request();
    }
    $url = rtrim(PRESSFEED_URL, '/') . '/admin/api/sources/' . rawurlencode(PRESSFEED_SOURCE) . '/poll';
    $response = wp_remote_post($url, array(
        // Sent and not waited for: pressfeed answers 202 at once and polls after.
        'blocking' => false,
        'timeout' => 2,
        'headers' => array('Authorization' => 'Bearer ' . PRESSFEED_TOKEN),
        'body' => '',
    ));
    if (is_wp_error($response)) {
        error_log('pressfeed poll: ' . $url . ': ' . $response->get_error_message());
    }
}
