package verify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/pakta-id/pakta/pledge"
)

// reportFormats returns every format string the package's sources hand to
// a report (r.pass, r.fail, notAllowed, malformed, msgf, joinWith, word,
// Message{Format: …}, the notProven list), with where it is.
func reportFormats(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	add := func(e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		out[s] = fset.Position(lit.Pos()).String()
	}
	argOf := map[string]int{"pass": 1, "fail": 1, "notAllowed": 0, "malformed": 0, "msgf": 0, "joinWith": 0, "word": 0}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						if x, ok := fn.X.(*ast.Ident); ok && x.Name == "r" {
							name = fn.Sel.Name
						}
					}
					if i, ok := argOf[name]; ok && len(n.Args) > i {
						add(n.Args[i])
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Message" {
						for _, el := range n.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Format" {
								add(kv.Value)
							}
						}
					}
				case *ast.ValueSpec:
					if len(n.Names) == 1 && n.Names[0].Name == "notProven" {
						for _, el := range n.Values[0].(*ast.CompositeLit).Elts {
							add(el)
						}
					}
				}
				return true
			})
		}
	}
	// Words printed from a fixed set through word(variable).
	for _, ty := range []string{pledge.TypePledge, pledge.TypeEnrollment, pledge.TypeRevocation, pledge.TypeTemplate} {
		out[ty] = "statement type"
		out[string(article(ty).Format)] = "statement type with its article"
	}
	for m := time.January; m <= time.December; m++ {
		out[m.String()] = "month"
	}
	return out
}

// verbRE matches a fmt verb, with x/text's optional argument index.
var verbRE = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?([a-zA-Z%])`)

// verbs maps each argument (1-based) to its verb letter.
func verbs(format string) (map[int]string, error) {
	out := map[int]string{}
	next := 1
	for _, m := range verbRE.FindAllStringSubmatch(format, -1) {
		if m[4] == "%" {
			continue
		}
		i := next
		if m[2] != "" {
			i, _ = strconv.Atoi(m[2])
		}
		if v, ok := out[i]; ok && v != m[4] {
			return nil, strconvErr(format)
		}
		out[i] = m[4]
		next = i + 1
	}
	return out, nil
}

type strconvErr string

func (e strconvErr) Error() string { return "argument printed with two verbs in " + string(e) }

func hasLetter(s string) bool {
	return strings.IndexFunc(verbRE.ReplaceAllString(s, ""), unicode.IsLetter) >= 0
}

func TestTranslated(t *testing.T) {
	formats := reportFormats(t)
	if len(formats) < 80 {
		t.Fatalf("found only %d formats: is the source scan broken?", len(formats))
	}
	var missing []string
	for en, where := range formats {
		id, ok := indonesian[en]
		if !ok {
			if hasLetter(en) {
				missing = append(missing, where+": "+strconv.Quote(en))
			}
			continue
		}
		ve, err := verbs(en)
		if err != nil {
			t.Error(err)
			continue
		}
		vi, err := verbs(id)
		if err != nil {
			t.Error(err)
			continue
		}
		if !mapsEqual(ve, vi) {
			t.Errorf("verbs differ: %q has %v, its translation %q has %v", en, ve, id, vi)
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("no Indonesian for %s", m)
	}
	for en := range indonesian {
		if _, ok := formats[en]; !ok {
			t.Errorf("translation of %q, which no source prints", en)
		}
	}
}

func mapsEqual(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
