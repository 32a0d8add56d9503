//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The harness of TestREADME must fail when a document is wrong: these
// documents are small READMEs, right and wrong.

func TestDocRunsCommandsInOrder(t *testing.T) {
	md := "Text.\n\n```yaml\n# form.yaml: a file the commands use\nname: Andi\n```\n\n" +
		"```console\n" +
		"$ cat form.yaml   # the file, as written\n" +
		"# form.yaml: a file the commands use\n" +
		"name: Andi\n" +
		"\n" +
		"$ X=1; printf 'a %s\\n' \\\n" +
		"    \"$X\"\n" +
		"a 1\n" +
		"$ echo \"$X # not a comment\" '#' # a comment\n" +
		"1 # not a comment #\n" +
		"```\n\n" +
		"Later, the same session (variables and the directory carry over):\n\n" +
		"```console\n" +
		"$ pakta init --dir d --origin pakta.test/doc\n" +
		"created a new log in d\n" +
		"…\n" +
		"trust policy:  d/policy.json (give it to verifiers)\n" +
		"…\n" +
		"$ pakta serve --dir d --listen 127.0.0.1:8090 2> serve.log &\n" +
		"$ pakta audit --server http://127.0.0.1:8090 --policy d/policy.json -q; echo \"exit $? X=$X\"\n" +
		"audit passed (public reads): 0 entries, root 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, every hash tile agrees, 1 checkpoint(s) consistent; entries not checked (give --key, a policy reader's, to check them)\n" +
		"exit 0 X=1\n" +
		"$ pakta get --dir d 0; echo \"exit $?\"   # a failure shown as such\n" +
		"pakta: …the log is in use by another process…\n" +
		"exit 1\n" +
		"```\n"
	if err := runDoc(t, repoRoot(t), "doc.md", md); err != nil {
		t.Fatal(err)
	}
}

func TestDocFailures(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{"a command fails", "```console\n$ true\n$ pakta nosuchcommand\n```\n", "doc.md:3: $ pakta nosuchcommand\nexited with status 2"},
		{"other output", "```console\n$ echo hello\nhallo\n```\n", `doc.md:2: $ echo hello` + "\nprinted:\n\thello\nbut the document shows:\n\thallo"},
		{"more output than shown", "```console\n$ printf 'a\\nb\\n'\na\n```\n", "more was printed: b"},
		{"less output than shown", "```console\n$ echo a\na\nb\n```\n", `first line that does not match: "b"`},
		{"nothing shown, something printed", "```console\n$ echo a\n```\n", "printed:\n\ta"},
		{"a later command fails after a good one", "```console\n$ echo a\na\n```\n\n```console\n$ ls nosuchfile\n```\n", "doc.md:7: $ ls nosuchfile"},
		{"output before a command", "```console\nhello\n$ echo a\n```\n", "output before any command"},
		{"a background command without an address", "```console\n$ sleep 1 &\n```\n", "must name the 127.0.0.1:PORT"},
		{"an unclosed block", "```console\n$ echo a\n", "never ends"},
		{"a stale quote", "<!-- quote examples/embed/main.go -->\n```go\nfunc old() {}\n```\n", "differs from the region of examples/embed/main.go"},
		{"a quote of a file without markers", "<!-- quote go.mod -->\n```\nmodule x\n```\n", "no line ending in README:begin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runDoc(t, repoRoot(t), "doc.md", tt.md)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("runDoc: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMatchOutput(t *testing.T) {
	tests := []struct {
		shown, got string
		ok         bool
	}{
		{"kid: R85i9zSpWS3EVBHmLEanMhSDgAbjIv4cBZtiMy0vipU", "kid: kSiQapSjYdtkmFa57hv0E66DpwWlpzKjhZGwfTkRG4Q", true},
		{"kid: R85i9zSpWS3EVBHmLEanMhSDgAbjIv4cBZtiMy0vipU", "kid: kSiQapSjYdtkmFa57hv0E66DpwWlpzKjhZGwfTkRG4", false}, // shorter
		// A NIP is not a variable: digits alone are an identifier.
		{"nip 198703152010011002 (Andi Pratama)", "nip 198703152010011003 (Andi Pratama)", false},
		{"nip 198703152010011002 (Andi Pratama)", "nip 198703152010011002 (Andi Pratamo)", false},
		// A hash may happen to have no letter.
		{"root 431945b8c405c4a3…", "root 4319458840504343…", true},
		{"log key:  a.test/x+602dcb6a+Ac0IgQcPna75mRsk9TOgZeBhLsGs05T1OaWu1z0wBlAT", "log key:  a.test/x+abd4c43f+AcMjE6ngOy/sXerx1dHFHUnmmzaTCFOU9DDtjy5Fz23/", true},
		{"log key:  a.test/x+602dcb6a+Ac0IgQcPna75mRsk9TOgZeBhLsGs05T1OaWu1z0wBlAT", "log key:  a.test/y+abd4c43f+AcMjE6ngOy/sXerx1dHFHUnmmzaTCFOU9DDtjy5Fz23/", false},
		{"pledge f6af9394-a0bb-4aca-857c-1440e340d09e dated 2026-11-23 at 2026-11-23T16:03:19+08:00", "pledge 06614f97-c6ee-44a0-83ae-e534e5f92926 dated 2026-12-07 at 2026-12-07T22:29:04+08:00", true},
		{"dated 23 November 2026 (signed at 16:03 +08:00)", "dated 7 Desember 2026 (signed at 09:03 +08:00)", true},
		{"dated 23 November 2026 (signed at 16:03 +08:00)", "dated 7 December 2026 (signed at 09:03 +07:00)", false},
		{"logged at index 0, bundle bundles/0.pakta.json", "logged at index 1, bundle bundles/1.pakta.json", false},
		{"template netralitas-2024 in testdata/templates/netralitas-2024.txt", "template netralitas-2029 in testdata/templates/netralitas-2029.txt", false},
		{`{"verdict":"pass","checks":…`, `{"verdict":"pass","checks":[{"id":"bundle"}]}`, true},
		{`{"verdict":"pass","checks":…`, `{"verdict":"fail","checks":[]}`, false},
		{"a\n…\nd", "a\nb\nc\nd", true},
		{"a\n…\nd", "a\nd", true},
		{"a\n…\nd", "a\nb\nc", false},
		{"a\n\nb", "a\nb", false},
		{"trailing spaces   ", "trailing spaces", true},
	}
	for _, tt := range tests {
		_, ok := matchOutput(strings.Split(tt.shown, "\n"), strings.Split(tt.got, "\n"))
		if ok != tt.ok {
			t.Errorf("matchOutput(%q, %q) = %v, want %v (pattern %s)", tt.shown, tt.got, ok, tt.ok, linePattern(strings.Split(tt.shown, "\n")[0]))
		}
	}
}

func TestParseConsole(t *testing.T) {
	d, err := parseDoc("```console\n$ a --x \\\n    --y 'q # r' # note\nout\n\n$ b --listen 127.0.0.1:8090 2> log &   # in the background\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.commands) != 2 {
		t.Fatalf("%d commands, want 2", len(d.commands))
	}
	a, b := d.commands[0], d.commands[1]
	if a.run != "a --x --y 'q # r'" || a.line != 2 || len(a.expected) != 1 || a.expected[0] != "out" || a.background {
		t.Errorf("first command: %+v", a)
	}
	if b.run != "b --listen 127.0.0.1:8090 2> log &" || !b.background || len(b.addrs) != 1 || b.addrs[0] != "127.0.0.1:8090" || b.line != 6 {
		t.Errorf("second command: %+v", b)
	}
}

// The clone has the repository's tracked entries, and nothing a reader left
// behind.
func TestLinkClone(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	if err := linkClone(root, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go.mod", "README.md", "testdata"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	for _, name := range []string{".git", "pakta-data", "mamuju"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is linked into the clone", name)
		}
	}
}
