#!/usr/bin/env bash
# Install Twilio's OpenAPI description of API v2010 as var/twilio-oai/twilio_api_v2010.json.
#
# The dev phone validates every Messages request and response against it, so it must be the
# exact file we tested with: it comes from a pinned npm package (MIT) and its sha256 is
# checked. It is fetched at build time and never committed. Does nothing when the file is
# already installed with the right hash.
set -euo pipefail

PACKAGE="@twilio-alpha/mcp@0.7.0"
SPEC_IN_PACKAGE="package/twilio-oai/spec/json/twilio_api_v2010.json"
SPEC_SHA256="475b69553e34e797af05d34679cdad3bc3b8b4b8b92e6ac044fa6ebc255bf052"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$ROOT/var/twilio-oai"
DEST="$DEST_DIR/twilio_api_v2010.json"

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

if [[ -f "$DEST" && "$(sha256_of "$DEST")" == "$SPEC_SHA256" && -f "$DEST_DIR/LICENSE" ]]; then
    exit 0
fi

command -v npm >/dev/null || { echo "fetch_twilio_oai: npm is needed to fetch $PACKAGE" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$WORK"/*.tgz -C "$WORK"

GOT="$(sha256_of "$WORK/$SPEC_IN_PACKAGE")"
if [[ "$GOT" != "$SPEC_SHA256" ]]; then
    echo "fetch_twilio_oai: $PACKAGE gave $SPEC_IN_PACKAGE with sha256 $GOT," >&2
    echo "  expected $SPEC_SHA256; refusing to install it" >&2
    exit 1
fi

mkdir -p "$DEST_DIR"
if [[ -f "$WORK/package/LICENSE" ]]; then
    cp "$WORK/package/LICENSE" "$DEST_DIR/LICENSE.tmp"
else
    # 0.7.0 ships no LICENSE file; its package.json declares MIT. This is the MIT licence of
    # twilio/twilio-oai, where the package's twilio-oai/spec comes from.
    cat >"$DEST_DIR/LICENSE.tmp" <<'LICENSE'
MIT License

Copyright (C) 2023, Twilio, Inc. <help@twilio.com>

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
fi
# Move into place last, so that an interrupted run never leaves a half-written spec.
cp "$WORK/$SPEC_IN_PACKAGE" "$DEST.tmp"
mv "$DEST_DIR/LICENSE.tmp" "$DEST_DIR/LICENSE"
mv "$DEST.tmp" "$DEST"
echo "fetch_twilio_oai: installed $DEST from $PACKAGE"
