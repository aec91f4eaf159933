#!/usr/bin/env bash
# Install Solara's front-end assets from the npm registry into .assets/solara-cdn, so the
# dashboard works offline (Solara would otherwise fetch them from a CDN this machine cannot
# reach). Point SOLARA_ASSETS_PROXY_CACHE_DIR at that folder (sim-dashboard does).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.assets/solara-cdn
PACKAGES=("@widgetti/solara-vuetify-app@10.1.1" "font-awesome@4.5.0" "requirejs@2.3.6" "@widgetti/vue-grid-layout@2.3.13-alpha.2"
          # the dashboard's charts: Vega-Lite drawn in the browser (the paths Solara's VegaLite asks for)
          "vega@5" "vega-lite@5" "vega-embed@6")
command -v npm >/dev/null || { echo "fetch_assets: npm is needed (Node.js)" >&2; exit 1; }
mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for pkg in "${PACKAGES[@]}"; do
  if [ -f "$DEST/$pkg/package.json" ]; then continue; fi
  (cd "$TMP" && npm pack "$pkg" --silent >/dev/null)
  tgz=$(ls -t "$TMP"/*.tgz | head -1)
  mkdir -p "$DEST/$pkg.partial"
  tar -xzf "$tgz" -C "$DEST/$pkg.partial" --strip-components=1
  rm -rf "$DEST/$pkg" && mv "$DEST/$pkg.partial" "$DEST/$pkg"
  rm -f "$tgz"
done
touch "$DEST/.complete"
echo "solara assets in $DEST"
