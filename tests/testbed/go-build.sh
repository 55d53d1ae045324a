# Builds one Go command of a published module in a wrapper module of its own, so that the
# module's own go.mod `replace` lines (upstream checkouts) do not apply. Sourced, not run.
# go_build_wrapped SRC OUT PACKAGE LDFLAGS GOMOD_BODY: writes SRC/go.mod and SRC/tools.go,
# resolves the modules (first run only), builds PACKAGE to OUT through OUT.tmp.
go_build_wrapped() {
  local src="$1" out="$2" package="$3" ldflags="$4" body="$5"
  command -v go >/dev/null || { echo "go-build: Go is needed to build $package and was not found" >&2; return 1; }
  mkdir -p "$src" "$(dirname "$out")"
  printf 'module pulumiqemu.local/%s\n\ngo 1.25\n\n%s\n' "$(basename "$out")" "$body" > "$src/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > "$src/tools.go"
  (cd "$src" && GOFLAGS=-mod=mod go mod tidy -e >&2 && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" -ldflags "$ldflags" "$package" >&2)
  mv -f "$out.tmp" "$out"
}
