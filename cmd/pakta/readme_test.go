//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() { testCommands["pakta-readme-wait"] = waitAddr }

// TestREADME runs README.md as written, the way a reader on a fresh clone
// would: see runDoc for the rules. A README edit that breaks a command, or
// output that no longer matches what the README shows, fails it.
// TestDocsHaveNoConflictMarkers: a merge once left both sides of a README
// table in place, markers and all, and nothing that runs the README's
// commands noticed.
func TestDocsHaveNoConflictMarkers(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(repoRoot(t), "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no Markdown files at the top level (%v)", err)
	}
	marker := regexp.MustCompile(`(?m)^(<<<<<<< |=======$|>>>>>>> )`)
	for _, p := range docs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if loc := marker.FindIndex(b); loc != nil {
			t.Errorf("%s: merge conflict marker on line %d", p, bytes.Count(b[:loc[0]], []byte("\n"))+1)
		}
	}
}

func TestREADME(t *testing.T) {
	root := repoRoot(t)
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if err := runDoc(t, root, "README.md", string(md)); err != nil {
		t.Fatal(err)
	}
}

// A document's executable parts, in order.
type doc struct {
	files    []docFile  // ```yaml blocks whose first line is "# NAME: …"
	commands []*command // the commands of every ```console block, in order
	quotes   []quote    // blocks preceded by <!-- quote PATH -->
}

type docFile struct {
	name, content string
	line          int
}

// command is one "$ " line of a console block (with its continuation lines)
// and the output the document shows under it.
type command struct {
	line       int    // the line of the "$ " in the document
	shown      string // as the document shows it
	run        string // without its trailing comment, ports remapped
	background bool   // it ends with "&"
	addrs      []string
	expected   []string
}

type quote struct {
	path, content string
	line          int
}

var (
	fileComment = regexp.MustCompile(`^# ([A-Za-z0-9._/-]+\.[A-Za-z0-9]+):`)
	quoteMarker = regexp.MustCompile(`^<!-- quote ([A-Za-z0-9._/-]+) -->$`)
	loopback    = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):([0-9]{2,5})\b`)
)

// parseDoc reads the fenced blocks of a Markdown document:
//   - ```console blocks hold commands: a line starting with "$ " is a command
//     (a line ending in "\" continues it on the next), and the lines up to
//     the next "$ " are the output it shows;
//   - a ```yaml block whose first line is a comment "# NAME: …" is the file
//     NAME, written before any command runs;
//   - a block right after a line "<!-- quote PATH -->" quotes PATH: it must
//     equal the lines of PATH between the lines ending in "README:begin"
//     and "README:end" (blank lines next to those markers left out), byte
//     for byte.
func parseDoc(md string) (*doc, error) {
	d := new(doc)
	lines := strings.Split(md, "\n")
	quoting := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := quoteMarker.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			quoting = m[1]
			continue
		}
		if !strings.HasPrefix(l, "```") {
			if strings.TrimSpace(l) != "" {
				quoting = ""
			}
			continue
		}
		info := strings.Fields(strings.TrimPrefix(l, "```"))
		start := i + 1
		end := start
		for end < len(lines) && !strings.HasPrefix(lines[end], "```") {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: a code block that never ends", i+1)
		}
		body := lines[start:end]
		i = end
		if quoting != "" {
			d.quotes = append(d.quotes, quote{path: quoting, content: strings.Join(body, "\n") + "\n", line: start})
			quoting = ""
			continue
		}
		lang := ""
		if len(info) > 0 {
			lang = info[0]
		}
		switch lang {
		case "yaml", "yml":
			if len(body) > 0 {
				if m := fileComment.FindStringSubmatch(body[0]); m != nil {
					d.files = append(d.files, docFile{name: m[1], content: strings.Join(body, "\n") + "\n", line: start})
				}
			}
		case "console":
			cmds, err := parseConsole(body, start+1)
			if err != nil {
				return nil, err
			}
			d.commands = append(d.commands, cmds...)
		}
	}
	return d, nil
}

// parseConsole reads the lines of one console block; first is the document
// line number of lines[0].
func parseConsole(lines []string, first int) ([]*command, error) {
	var cmds []*command
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "$ ") {
			if len(cmds) == 0 {
				if strings.TrimSpace(l) == "" {
					continue
				}
				return nil, fmt.Errorf("line %d: output before any command in a console block", first+i)
			}
			last := cmds[len(cmds)-1]
			last.expected = append(last.expected, l)
			continue
		}
		c := &command{line: first + i}
		text := strings.TrimPrefix(l, "$ ")
		shown := []string{l}
		var joined strings.Builder
		for strings.HasSuffix(text, `\`) {
			joined.WriteString(strings.TrimSuffix(text, `\`))
			if i+1 == len(lines) {
				return nil, fmt.Errorf("line %d: a continued command at the end of its block", first+i)
			}
			i++
			shown = append(shown, lines[i])
			text = strings.TrimLeft(lines[i], " \t")
		}
		joined.WriteString(text)
		c.shown = strings.Join(shown, "\n")
		c.run = strings.TrimSpace(stripComment(joined.String()))
		if strings.HasSuffix(c.run, "&") && !strings.HasSuffix(c.run, "&&") {
			c.background = true
			c.addrs = loopback.FindAllString(c.run, -1)
			if len(c.addrs) == 0 {
				return nil, fmt.Errorf("line %d: a background command must name the 127.0.0.1:PORT it listens on, so that the next command can wait for it", c.line)
			}
		}
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		for len(c.expected) > 0 && strings.TrimSpace(c.expected[len(c.expected)-1]) == "" {
			c.expected = c.expected[:len(c.expected)-1]
		}
	}
	return cmds, nil
}

// stripComment drops a shell comment: a "#" that starts a word outside
// quotes, and everything after it.
func stripComment(s string) string {
	var quote rune
	prev := ' '
	for i, r := range s {
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			}
		case quote == '"':
			if r == '"' && prev != '\\' {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return strings.TrimRight(s[:i], " \t")
		}
		prev = r
	}
	return s
}

// runDoc runs a document's commands in order in one sh session, in a new
// directory that looks like a fresh clone of the repository (its top-level
// entries linked in), with pakta on PATH, after writing the document's files
// there; name is the document's name in messages.
//
// Each command runs with its trailing comment stripped and stdin from
// /dev/null; stdout and stderr are compared, together, with the output the
// document shows, line by line (see matchOutput). A command must exit 0:
// show a failure as "cmd; echo "exit $?"". A command ending in "&" runs in
// the background; it must name the loopback address it listens on, and the
// next command starts once that address accepts connections. Every loopback
// port is remapped to a free one (and back in the output), so that a run
// never meets a server already listening there. Background commands are
// stopped (SIGTERM) at the end. With PAKTA_README_PRINT=1 in the
// environment, the test logs the whole session as it ran, ready to paste.
func runDoc(t *testing.T, root, name, md string) error {
	d, err := parseDoc(md)
	if err != nil {
		return fmt.Errorf("%s:%w", name, err)
	}
	for _, q := range d.quotes {
		if err := checkQuote(root, q); err != nil {
			return fmt.Errorf("%s:%d: %w", name, q.line, err)
		}
	}
	if len(d.commands) == 0 {
		return nil
	}
	dir := t.TempDir()
	if err := linkClone(root, dir); err != nil {
		return err
	}
	for _, f := range d.files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.content), 0o644); err != nil {
			return fmt.Errorf("%s:%d: %w", name, f.line, err)
		}
	}
	ports, err := remapPorts(d.commands)
	if err != nil {
		return err
	}

	// One script, so that cd, variables and $! carry over as in a terminal.
	// Markers on lines of their own split the output by command.
	var script strings.Builder
	script.WriteString("readme_bg=\nreadme_end() { for p in $readme_bg; do kill $p 2>/dev/null; done; wait; exit 0; }\n")
	for i, c := range d.commands {
		fmt.Fprintf(&script, "{ %s\n} </dev/null\nreadme_st=$?\n", c.run)
		if c.background {
			script.WriteString("readme_bg=\"$readme_bg $!\"\n")
			for _, a := range c.addrs {
				fmt.Fprintf(&script, "[ $readme_st -ne 0 ] || pakta-readme-wait %s || readme_st=$?\n", a)
			}
		}
		fmt.Fprintf(&script, "printf '\\n%s %d %%d\\n' $readme_st\n[ $readme_st -eq 0 ] || readme_end\n", marker, i)
	}
	script.WriteString("readme_end\n")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "sh", "-c", script.String())
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PWD="+dir)
	var out bytes.Buffer
	sh.Stdout, sh.Stderr = &out, &out
	// Its own process group, so that a timeout stops the background
	// commands too, not only the shell.
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	sh.Cancel = func() error { return syscall.Kill(-sh.Process.Pid, syscall.SIGKILL) }
	sh.WaitDelay = 5 * time.Second
	runErr := sh.Run()
	if sh.Process != nil {
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
	}

	outputs, statuses := splitOutput(out.String())
	if os.Getenv("PAKTA_README_PRINT") != "" {
		// The session as a console block, for pasting into the document.
		var b strings.Builder
		for i, o := range outputs {
			fmt.Fprintf(&b, "%s\n%s\n", d.commands[i].shown, strings.TrimRight(unmapPorts(o, ports), "\n"))
		}
		t.Logf("%s as it ran (PAKTA_README_PRINT):\n%s", name, b.String())
	}
	for i, c := range d.commands {
		if i >= len(outputs) {
			return fmt.Errorf("%s:%d: %s\ndid not finish (%v); the output so far:\n%s", name, c.line, c.shown, runErr, out.String())
		}
		got := strings.Split(strings.TrimRight(unmapPorts(outputs[i], ports), "\n \t"), "\n")
		if len(got) == 1 && got[0] == "" {
			got = nil
		}
		if statuses[i] != 0 {
			return fmt.Errorf("%s:%d: %s\nexited with status %d:\n%s", name, c.line, c.shown, statuses[i], strings.Join(got, "\n"))
		}
		if bad, ok := matchOutput(c.expected, got); !ok {
			return fmt.Errorf("%s:%d: %s\nprinted:\n%s\nbut the document shows:\n%s\n(first line that does not match: %q)",
				name, c.line, c.shown, indent(got), indent(c.expected), bad)
		}
	}
	return nil
}

const marker = "@@pakta-readme-status"

// splitOutput cuts the session's output at the status markers.
func splitOutput(out string) (outputs []string, statuses []int) {
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		l := sc.Text()
		if f := strings.Fields(l); len(f) == 3 && f[0] == marker {
			st, _ := strconv.Atoi(f[2])
			// The marker's own leading newline ends the command's output.
			outputs = append(outputs, strings.TrimSuffix(cur.String(), "\n"))
			statuses = append(statuses, st)
			cur.Reset()
			continue
		}
		cur.WriteString(l + "\n")
	}
	return outputs, statuses
}

func indent(lines []string) string {
	if len(lines) == 0 {
		return "\t(nothing)"
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// remapPorts replaces every loopback port the commands name by a free one,
// the same port for the same number, and returns the replacements.
func remapPorts(cmds []*command) (map[string]string, error) {
	ports := map[string]string{}
	for _, c := range cmds {
		for _, m := range loopback.FindAllStringSubmatch(c.run, -1) {
			if _, ok := ports[m[2]]; ok {
				continue
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			_, p, _ := net.SplitHostPort(ln.Addr().String())
			ln.Close()
			ports[m[2]] = p
		}
	}
	remap := func(s string) string {
		return loopback.ReplaceAllStringFunc(s, func(m string) string {
			host, port, _ := strings.Cut(m, ":")
			return host + ":" + ports[port]
		})
	}
	for _, c := range cmds {
		c.run = remap(c.run)
		for i, a := range c.addrs {
			c.addrs[i] = remap(a)
		}
	}
	return ports, nil
}

// unmapPorts puts the document's ports back into a command's output.
func unmapPorts(s string, ports map[string]string) string {
	for orig, p := range ports {
		for _, host := range []string{"127.0.0.1:", "localhost:"} {
			s = strings.ReplaceAll(s, host+p, host+orig)
		}
	}
	return s
}

// linkClone makes dir look like a fresh clone of the repository at root: a
// link to each top-level entry that git tracks, so that what a reader left
// behind by running the README by hand (mamuju/, keys, bundles) is not there.
// Without git (a source archive), every entry but hidden ones and what
// .gitignore names at the top.
func linkClone(root, dir string) error {
	var names []string
	if out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output(); err == nil && len(out) > 0 {
		seen := map[string]bool{}
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			top, _, _ := strings.Cut(f, "/")
			if !seen[top] {
				seen[top] = true
				names = append(names, top)
			}
		}
	} else {
		ignored := map[string]bool{}
		if b, err := os.ReadFile(filepath.Join(root, ".gitignore")); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "/") {
					ignored[strings.Trim(l, "/")] = true
				}
			}
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") && !ignored[e.Name()] {
				names = append(names, e.Name())
			}
		}
	}
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			continue // .git, .ci, .gitignore: not what a reader runs
		}
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// checkQuote checks that a quoted block is, byte for byte, the marked region
// of the file it quotes.
func checkQuote(root string, q quote) error {
	b, err := os.ReadFile(filepath.Join(root, q.path))
	if err != nil {
		return fmt.Errorf("the block quotes %s: %w", q.path, err)
	}
	var region []string
	in, found := false, false
	for _, l := range strings.SplitAfter(string(b), "\n") {
		switch t := strings.TrimSpace(l); {
		case strings.HasSuffix(t, "README:begin"):
			in, found = true, true
		case strings.HasSuffix(t, "README:end"):
			in = false
		case in:
			region = append(region, l)
		}
	}
	if !found {
		return fmt.Errorf("the block quotes %s, which has no line ending in README:begin", q.path)
	}
	// Blank lines next to the markers keep them apart from the code (and
	// out of a doc comment); they are not part of the quote.
	for len(region) > 0 && strings.TrimSpace(region[0]) == "" {
		region = region[1:]
	}
	for len(region) > 0 && strings.TrimSpace(region[len(region)-1]) == "" {
		region = region[:len(region)-1]
	}
	if want := strings.Join(region, ""); q.content != want {
		return fmt.Errorf("the block differs from the region of %s it quotes (between README:begin and README:end): copy it again\n--- README\n%s--- %s\n%s", q.path, q.content, q.path, want)
	}
	return nil
}

// matchOutput matches a command's output with the lines the document shows.
// In a shown line, "…" stands for any text up to where the line goes on; a
// line that is only "…" stands for any number of lines. Values that differ
// from run to run match any value of their kind: keys and kids (base64 with
// upper and lower case), hex hashes, note keys (the origin must match),
// UUIDs, RFC 3339 times, dates ("2026-11-23", "23 November 2026") and clock
// times ("16:03", but not a zone offset such as "+08:00"). Everything else must be equal; trailing spaces are ignored. It
// returns the first shown line that does not match.
func matchOutput(shown, got []string) (string, bool) {
	res := make([]*regexp.Regexp, len(shown))
	for i, l := range shown {
		if strings.TrimSpace(l) != "…" {
			res[i] = regexp.MustCompile("^" + linePattern(strings.TrimRight(l, " \t")) + "$")
		}
	}
	for i := range got {
		got[i] = strings.TrimRight(got[i], " \t")
	}
	bad := ""
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(shown) {
			if j < len(got) && bad == "" {
				bad = "(nothing more, but more was printed: " + got[j] + ")"
			}
			return j == len(got)
		}
		if res[i] == nil {
			for k := j; k <= len(got); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		if j < len(got) && res[i].MatchString(got[j]) {
			return match(i+1, j+1)
		}
		if bad == "" {
			bad = shown[i]
		}
		return false
	}
	return bad, match(0, 0)
}

var (
	months = `(?:January|February|March|April|May|June|July|August|September|October|November|December|` +
		`Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember)`
	variable = regexp.MustCompile(strings.Join([]string{
		`(?P<ellipsis>…)`,
		`(?P<uuid>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)`,
		`(?P<time>\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))`,
		`(?P<notekey>[A-Za-z0-9._/-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*)`,
		`(?P<date>\b\d{4}-\d{2}-\d{2}\b)`,
		`(?P<longdate>\b\d{1,2} ` + months + ` \d{4}\b)`,
		`(?P<clock>\b\d{1,2}:\d{2}(?::\d{2})?\b)`,
		`(?P<hex>\b[0-9a-f]{12,}\b)`,
		`(?P<base64>[A-Za-z0-9+/_-]{16,}=*)`,
	}, "|"))
	upper     = regexp.MustCompile(`[A-Z]`)
	lower     = regexp.MustCompile(`[a-z]`)
	hexLetter = regexp.MustCompile(`[a-f]`)
)

// linePattern is the regexp of one shown line (see matchOutput).
func linePattern(l string) string {
	var b strings.Builder
	last := 0
	for _, m := range variable.FindAllStringSubmatchIndex(l, -1) {
		tok := l[m[0]:m[1]]
		var p string
		for g, name := range variable.SubexpNames() {
			if name == "" || m[2*g] < 0 {
				continue
			}
			switch name {
			case "ellipsis":
				p = `.*`
			case "uuid":
				p = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
			case "time":
				p = `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`
			case "notekey":
				origin, _, _ := strings.Cut(tok, "+")
				p = regexp.QuoteMeta(origin) + `\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*`
			case "date":
				p = `\d{4}-\d{2}-\d{2}`
			case "longdate":
				p = `\d{1,2} ` + months + ` \d{4}`
			case "clock":
				// +08:00 is a zone (WITA), not a time of day.
				if m[0] == 0 || (l[m[0]-1] != '+' && l[m[0]-1] != '-') {
					p = `\d{1,2}:\d{2}(?::\d{2})?`
				}
			case "hex":
				// Digits alone are an identifier (a NIP), not a hash.
				if hexLetter.MatchString(tok) {
					p = fmt.Sprintf(`[0-9a-f]{%d}`, len(tok))
				}
			case "base64":
				// Words and paths have one case; keys and signatures both.
				if upper.MatchString(tok) && lower.MatchString(tok) {
					p = fmt.Sprintf(`[A-Za-z0-9+/_-]{%d}=*`, len(strings.TrimRight(tok, "=")))
				}
			}
		}
		if p == "" {
			continue // not a variable after all: kept as text
		}
		b.WriteString(regexp.QuoteMeta(l[last:m[0]]))
		b.WriteString(p)
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(l[last:]))
	return b.String()
}

// waitAddr is the pakta-readme-wait command: it waits until its address
// accepts connections (a server started in the background is ready).
func waitAddr() {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", os.Args[1], time.Second)
		if err == nil {
			c.Close()
			os.Exit(0)
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "pakta-readme-wait: nothing accepts connections on %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// repoRoot is the directory holding go.mod, above this package.
func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above " + dir)
		}
		dir = parent
	}
}
