#!/usr/bin/env bash
# A real WordPress on 127.0.0.1 for tests/wordpress.rs: Debian's wordpress package served by
# `php -S`, over a MariaDB of its own (no systemd needed). Run as root; idempotent: a site
# already running from the same state directory is reused.
#
#   tests/wordpress/setup.sh ENV_FILE    writes WP_URL, WP_USER, WP_APP_PASSWORD,
#                                        WP_AUTHOR_ID, WP_ADMIN_USER,
#                                        WP_ADMIN_APP_PASSWORD and WP_STATE to ENV_FILE
#   tests/wordpress/stop.sh ENV_FILE     stops exactly the processes this started
#
# State (database, socket, logs, the PIDs started, must-use plugins) lives in
# $PRESSFEED_WP_STATE, /tmp/pressfeed-wordpress by default. deploy/wordpress/pressfeed-poll.php
# is the site's must-use plugin; it stays idle until a test writes its settings to
# $PRESSFEED_WP_STATE/pressfeed-poll.json.
set -euo pipefail

env_file=${1:?usage: setup.sh ENV_FILE}
here=$(cd "$(dirname "$0")" && pwd)
state=${PRESSFEED_WP_STATE:-/tmp/pressfeed-wordpress}
docroot=/usr/share/wordpress
# Debian's wp-config.php reads /etc/wordpress/config-$WORDPRESS_CONFIG.php when that is set
# (else config-<host>.php): one name per state directory, so two sites (a developer's and
# a CI run's) never read each other's database settings.
export WORDPRESS_CONFIG="pressfeed-$(printf %s "$state" | cksum | cut -d' ' -f1)"
wp_config=/etc/wordpress/config-$WORDPRESS_CONFIG.php

say() { echo "wordpress setup: $*" >&2; }

install_packages() {
  local wanted=(wordpress php-cli php-mysql mariadb-server curl)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  # Keep package scripts from starting a system-wide MariaDB or web server: this script
  # starts its own, on its own socket and port.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && made_policy=1
  fi
  local lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  [ -n "$made_policy" ] && rm -f $policy
  return 0
}

# True when every PID recorded in $state/pids is alive and WordPress answers.
running() {
  [ -s "$state/pids" ] && [ -s "$state/port" ] || return 1
  local pid
  while read -r pid _; do kill -0 "$pid" 2>/dev/null || return 1; done <"$state/pids"
  curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$state/port")/wp-json/" 2>/dev/null
}

# Starts "$@" in a session of its own, so stop.sh can end it with its children.
start() {
  local name=$1
  shift
  setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
  echo "$! $name" >>"$state/pids"
}

wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  say "$what did not come up in 30 s; logs in $state"
  exit 1
}

start_mariadb() {
  mkdir -p "$state/run"
  chown mysql:mysql "$state/run"
  if [ ! -d "$state/db/mysql" ]; then
    mkdir -p "$state/db"
    chown mysql:mysql "$state/db"
    mariadb-install-db --user=mysql --datadir="$state/db" --skip-test-db \
      --auth-root-authentication-method=socket >"$state/install-db.log" 2>&1
  fi
  start mariadb mariadbd --no-defaults --user=mysql --datadir="$state/db" \
    --socket="$state/run/mysqld.sock" --pid-file="$state/run/mysqld.pid" \
    --skip-networking --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
    --log-error="$state/mariadb-error.log"
  wait_for MariaDB mariadb-admin --socket="$state/run/mysqld.sock" ping
  mariadb --socket="$state/run/mysqld.sock" <<SQL
CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wordpress'@'localhost' IDENTIFIED BY '$db_password';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';
SQL
}

write_config() {
  local salt
  salt=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
  umask 077
  cat >"$wp_config.tmp" <<PHP
<?php
// Written by pressfeed's tests/wordpress/setup.sh for its test site.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '$db_password');
define('DB_HOST', 'localhost:$state/run/mysqld.sock');
define('DB_CHARSET', 'utf8mb4');
// Application passwords over plain http need a 'local' environment.
define('WP_ENVIRONMENT_TYPE', 'local');
// The port is chosen per run; the site follows whatever host it is asked by.
define('WP_HOME', 'http://' . (\$_SERVER['HTTP_HOST'] ?? '127.0.0.1'));
define('WP_SITEURL', WP_HOME);
// No network here: fail calls out (update checks, oEmbed) at once instead of timing out.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
// pressfeed's plugin, loaded from the state directory. tests/wordpress.rs points it at the
// pressfeed it runs by writing its settings as JSON, read at every request (a PHP file
// would be served from the opcache for a while after it changed).
define('WPMU_PLUGIN_DIR', '$state/mu-plugins');
\$pressfeed_poll = json_decode((string) @file_get_contents('$state/pressfeed-poll.json'), true);
if (is_array(\$pressfeed_poll)) {
    define('PRESSFEED_URL', \$pressfeed_poll['url']);
    define('PRESSFEED_SOURCE', \$pressfeed_poll['source']);
    define('PRESSFEED_TOKEN', \$pressfeed_poll['token']);
}
define('AUTH_KEY', '$salt-1');
define('SECURE_AUTH_KEY', '$salt-2');
define('LOGGED_IN_KEY', '$salt-3');
define('NONCE_KEY', '$salt-4');
define('AUTH_SALT', '$salt-5');
define('SECURE_AUTH_SALT', '$salt-6');
define('LOGGED_IN_SALT', '$salt-7');
define('NONCE_SALT', '$salt-8');
PHP
  umask 022
  chmod 644 "$wp_config.tmp"
  mv "$wp_config.tmp" "$wp_config"
  echo "$wp_config" >"$state/wp-config"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

install_packages
mkdir -p "$state/mu-plugins"
chmod 755 "$state"
cp "$here/../../deploy/wordpress/pressfeed-poll.php" "$state/mu-plugins/"
if running; then
  say "reusing the site already running from $state"
  # Written again: a site started by an older setup.sh lacks what is configured now.
  db_password=$(cat "$state/db-password")
  write_config
else
  [ -e "$state/pids" ] && "$here/stop.sh" "$state" || true
  [ -s "$state/db-password" ] || head -c 18 /dev/urandom | base64 | tr -d '\n/+=' >"$state/db-password"
  db_password=$(cat "$state/db-password")
  start_mariadb
  write_config
  port=$(free_port)
  echo "$port" >"$state/port"
  # Several workers: pressfeed and the test ask at the same time.
  PHP_CLI_SERVER_WORKERS=4 start php php -S "127.0.0.1:$port" -t "$docroot" "$here/router.php"
  wait_for "php -S" curl -fsS -o /dev/null "http://127.0.0.1:$port/wp-includes/images/blank.gif"
fi
port=$(cat "$state/port")
url="http://127.0.0.1:$port"
# Installs the site if needed, makes the users and a fresh application password.
php "$here/install.php" "127.0.0.1:$port" >"$env_file.tmp"
wait_for "the REST API" curl -fsS -o /dev/null "$url/wp-json/wp/v2/posts"
{
  echo "WP_URL=$url"
  cat "$env_file.tmp"
  echo "WP_STATE=$state"
} >"$env_file"
rm -f "$env_file.tmp"
say "site at $url, credentials in $env_file"
