# Storefront task runner. With only uv installed: `uvx --from rust-just just <recipe>`.

set positional-arguments := true

export PYTHONPATH := justfile_directory() / "src"
python := justfile_directory() / ".venv/bin/python"

# List the recipes
default:
    @{{just_executable()}} --list --unsorted

# Serve the API (embedded PostgreSQL + Valkey unless DATABASE_URL / VALKEY_URL are set)
serve *args: _venv
    exec {{python}} -m storefront serve "$@"

# nginx → N instances → PgBouncer → PostgreSQL, + Valkey, on HOST:PORT (needs: apt-get install pgbouncer nginx)
cluster n="2": _venv
    exec {{python}} -m storefront cluster {{n}}

# Run the test suite on throwaway embedded PostgreSQL + Valkey (extra args go to pytest)
test *args: _venv
    {{python}} -m pytest "$@"

# Contract tests: schemathesis (every check and phase) against a throwaway server, anonymous and as an admin
contract *args: _venv
    {{python}} -m tools.contract "$@"

# Write openapi.json, the API contract: the document GET /openapi.json serves (`just test` fails when they differ)
openapi: _venv
    {{python}} -m tools.openapi

# Fail on a breaking change to openapi.json that CHANGELOG.md does not acknowledge (since BASE: default its last change)
openapi-check base="": _venv
    {{python}} -m tools.openapi.check "$@"

# The typed clients in clients/ (Python, TypeScript) from the app's OpenAPI document; `--check` fails if they are stale
clients *args: _venv
    {{python}} -m tools.clients "$@"

# Build the container image storefront:latest: docker if its daemon answers, else podman (set up if missing)
image: _venv
    {{python}} -m tools.image build

# Build the image with podman (installed and set up if missing) and check it as an operator runs it
image-test: _venv
    {{python}} -m tools.image

# Lint Python (ruff), the layer contracts (import-linter) and the Containerfile (hadolint)
lint: _venv
    {{python}} -m ruff check src tests tools bench docs/hooks
    {{python}} -m ruff format --check src tests tools bench docs/hooks
    PYTHONPATH="$PYTHONPATH:{{justfile_directory()}}" .venv/bin/lint-imports --no-cache --no-logo
    .venv/bin/hadolint Containerfile

# Check deploy/kubernetes against the strict schemas of the oldest and newest Kubernetes minors upstream maintains
validate-deploy versions="1.35.0 1.37.0": _venv
    @for version in {{versions}}; do \
        .venv/bin/kubernetes-validate --strict --quiet --kubernetes-version "$version" deploy/kubernetes/*.yaml || exit 1; \
        echo "deploy/kubernetes: valid for Kubernetes $version (strict)"; \
    done

# Format Python sources in place
fmt: _venv
    {{python}} -m ruff format src tests tools bench docs/hooks
    {{python}} -m ruff check --fix src tests tools bench docs/hooks

# Type-check the package (mypy, strict)
typecheck: _venv
    {{python}} -m mypy

# Apply pending migrations (`just migrate --status` lists them)
migrate *args: _venv
    {{python}} -m storefront migrate "$@"

# Create sql/migrations/NNNN_NAME.sql with the next free number
new-migration name: _venv
    {{python}} -m storefront new-migration "$@"

# Open psql on the configured database (the embedded one by default)
psql *args: _venv
    {{python}} -m storefront psql "$@"

# Create an admin (password from FIRST_ADMIN_PASSWORD or a prompt); `--promote` makes a verified customer one
create-admin *args: _venv
    {{python}} -m storefront create-admin "$@"

# The latest messages `serve` sent to its local mail sink (SMTP_URL unset): to, subject, link
mail *args: _venv
    {{python}} -m storefront mail "$@"

# Delete the local embedded data in DATA_DIR (refuses while `serve` runs)
clean-data: _venv
    {{python}} -m storefront clean-data

# A local Prometheus scraping `just serve` with the alert rules loaded, on 127.0.0.1:9090 (needs: apt-get install prometheus)
observe *args: _venv
    {{python}} -m tools.observe "$@"

# The documentation site (docs/, mkdocs-material) with live reload on 127.0.0.1:8001 (extra args go to `mkdocs serve`)
docs *args: _venv
    NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs serve "$@"

# Build the documentation site into site/, strict: a broken link or anchor, or an undocumented setting, fails
docs-build *args: _venv
    cd docs/assets/mermaid && sha256sum --quiet --check SHA256SUMS
    NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --clean "$@"

# Load benchmark against the framework-free ceiling (`just bench --quick` for a smoke run)
bench *args: _venv
    {{python}} -m bench "$@"

# The HTML report of an existing bench results file, without running the bench (`--svg DIR`: its charts as SVG files too)
bench-report *args: _venv
    {{python}} -m bench report "$@"

# Refresh the vendored browser files (npm tarballs, integrity-checked): Swagger UI and ReDoc for /docs and /redoc, Mermaid for the docs site
vendor-docs swagger="5.35.0" redoc="2.5.4" mermaid="11.17.2":
    #!/usr/bin/env bash
    # ReDoc stays on 2.x: 3.x is an ES module (Litestar's page loads a classic script). Mermaid stays
    # on the major mkdocs-material is made for (its CDN default, mermaid@11).
    set -euo pipefail
    dest=src/storefront/web/docs_assets site=docs/assets/mermaid
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    fetch() {
        local tgz want got
        tgz=$(cd "$work" && npm pack --silent "$1@$2")
        want=$(npm view "$1@$2" dist.integrity)
        got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
        [ "$want" = "$got" ] || { echo "integrity mismatch for $1@$2" >&2; exit 1; }
        mkdir -p "$work/$1" && tar -xzf "$work/$tgz" -C "$work/$1" --strip-components=1
        echo "$1@$2 $want" >> "$work/$3.MANIFEST"
    }
    sums() { (cd "$1" && find . -type f ! -name MANIFEST ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS); }
    fetch swagger-ui-dist "{{swagger}}" api
    fetch redoc "{{redoc}}" api
    fetch mermaid "{{mermaid}}" site
    rm -rf "$dest" && mkdir -p "$dest/swagger-ui" "$dest/redoc"
    s="$work/swagger-ui-dist"
    cp "$s"/{swagger-ui-bundle.js,swagger-ui-standalone-preset.js,swagger-ui.css,favicon-32x32.png} "$dest/swagger-ui/"
    cp "$s"/{LICENSE,NOTICE,swagger-ui-bundle.js.LICENSE.txt,swagger-ui-standalone-preset.js.LICENSE.txt} "$dest/swagger-ui/"
    cp "$work"/redoc/bundles/redoc.standalone.js{,.LICENSE.txt} "$work"/redoc/LICENSE "$dest/redoc/"
    cp "$work/api.MANIFEST" "$dest/MANIFEST" && sums "$dest"
    rm -rf "$site" && mkdir -p "$site"
    cp "$work"/mermaid/dist/mermaid.min.js "$work"/mermaid/LICENSE "$site/"
    cp "$work/site.MANIFEST" "$site/MANIFEST" && sums "$site"
    du -sh "$dest" "$site"

# Create or refresh .venv from the hash-pinned lock (a no-op when it is current)
_venv:
    #!/usr/bin/env bash
    set -euo pipefail
    want=$(sha256sum requirements-dev.lock | cut -d' ' -f1)
    if [ -x .venv/bin/python ] && [ "$(cat .venv/.lock-sha256 2>/dev/null)" = "$want" ]; then exit 0; fi
    command -v uv >/dev/null || { echo "uv is required: python -m pip install uv" >&2; exit 1; }
    uv venv -q --allow-existing --python '>=3.11' .venv
    uv pip sync -q --python .venv/bin/python --require-hashes requirements-dev.lock
    echo "$want" > .venv/.lock-sha256
