package render

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
)

// TestLabelsTranslated: every label the sources print through printer.t
// has an Indonesian translation with the same verbs, and every translation
// is used.
func TestLabelsTranslated(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "t" {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: printer.t with a format that is not a literal", fset.Position(call.Pos()))
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				used[s] = fset.Position(lit.Pos()).String()
				return true
			})
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d labels", len(used))
	}
	verb := regexp.MustCompile(`%(\[\d+\])?[a-z]`)
	var missing []string
	for en, where := range used {
		id, ok := indonesian[en]
		if !ok {
			missing = append(missing, where+": "+strconv.Quote(en))
			continue
		}
		if a, b := verb.FindAllString(en, -1), verb.FindAllString(id, -1); len(a) != len(b) {
			t.Errorf("verbs differ: %q %v, %q %v", en, a, id, b)
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("no Indonesian for %s", m)
	}
	for en := range indonesian {
		if _, ok := used[en]; !ok {
			t.Errorf("translation of %q, which no source prints", en)
		}
	}
}
