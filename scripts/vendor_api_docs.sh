#!/usr/bin/env bash
# Refresh the API docs' browser assets served from /static/vendor (hospital networks are often offline:
# /docs and /redoc must not load anything from the internet). Pinned versions; run after changing them
# and commit the result. Needs npm (the test setup installs it).
set -euo pipefail
SWAGGER_UI=5.35.0
REDOC=2.5.4
cd "$(dirname "$0")/.."
out=dashboard_api/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null)
mkdir -p "$tmp/sw" "$tmp/rd"
tar xzf "$tmp/swagger-ui-dist-$SWAGGER_UI.tgz" -C "$tmp/sw"
tar xzf "$tmp/redoc-$REDOC.tgz" -C "$tmp/rd"
rm -rf "$out/swagger-ui" "$out/redoc"
mkdir -p "$out/swagger-ui" "$out/redoc"
cp "$tmp"/sw/package/{swagger-ui-bundle.js,swagger-ui-bundle.js.LICENSE.txt,swagger-ui.css,favicon-32x32.png,LICENSE,NOTICE} "$out/swagger-ui/"
cp "$tmp"/rd/package/bundles/{redoc.standalone.js,redoc.standalone.js.LICENSE.txt} "$tmp"/rd/package/LICENSE "$out/redoc/"
# the bundles point at source maps that are not shipped
sed -i '/^\/\/# sourceMappingURL=/d' "$out/swagger-ui/swagger-ui-bundle.js" "$out/redoc/redoc.standalone.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$out/swagger-ui/swagger-ui.css"
printf 'swagger-ui-dist %s\nredoc %s\n' "$SWAGGER_UI" "$REDOC" > "$out/VERSIONS"
echo "vendored swagger-ui-dist $SWAGGER_UI and redoc $REDOC into $out"
