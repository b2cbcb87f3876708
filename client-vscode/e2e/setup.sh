#!/bin/sh
# Installs code-server 4.100.3 (VS Code 1.100.3) and playwright-core for e2e/run.mjs into
# e2e/.deps (or $E2E_DEPS). Needs: Node 20, npm, the npm registry, and from Debian
# `libkrb5-dev ripgrep chromium` (code-server builds kerberos; its ripgrep download is
# pre-seeded from Debian's rg, since the installer would fetch it from GitHub).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
deps="${E2E_DEPS:-$here/.deps}"
for tool in rg krb5-config; do
  command -v "$tool" >/dev/null || { echo "e2e setup: $tool is missing: apt-get install ripgrep libkrb5-dev chromium" >&2; exit 1; }
done
cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
tarball="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$tarball" ]; then
  mkdir -p "$cache"
  tar czf "$tarball" -C "$(dirname "$(command -v rg)")" rg
fi
mkdir -p "$deps"
cp "$here/deps.package.json" "$deps/package.json"
cd "$deps"
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --loglevel=error
# npm 11 runs install scripts only when allowed; make sure code-server's postinstall ran.
[ -e node_modules/code-server/lib/vscode/node_modules.asar ] || npm rebuild code-server argon2
node_modules/.bin/code-server --version
