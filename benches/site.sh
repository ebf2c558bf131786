# The benchmark site of benches/*.sh (sourced, not run).

# The site: 20 sections of 50 items, as `pressfeed-corpus` names them.
write_site() { # dir port
  mkdir -p "$1/sections"
  cat > "$1/site.toml" <<EOF
title = "Benchmark"
url = "https://asianlite.example/"
feed_base_url = "http://127.0.0.1:$2/feeds/"
default_author = "Desk"
EOF
  for i in $(seq -w 1 20); do
    cat > "$1/sections/section-$i.toml" <<EOF
slug = "section-$i"
title = "Section $i"
link = "https://asianlite.example/section-$i/"
limit = 50
max_age = 300
EOF
  done
}

