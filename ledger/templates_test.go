package ledger

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pakta-id/pakta/pledge"
)

// TestTemplates: the published templates are listed a page at a time,
// filtered by agency ("*" covers every agency), each with its index and
// logged_at, and a limit out of range is ErrInvalid.
func TestTemplates(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, election := range []string{"Pemilu 2024", "Pilkada 2024", "Pilkades 2025"} {
		e.publish(election)
	}
	other := e.TemplateStatement("Pemilu 2029")
	other.Agencies = []string{"1810"}
	e.append(e.sign(other, e.Registrar))
	all := e.TemplateStatement("Pilkada 2029")
	all.Agencies = []string{pledge.AllAgencies}
	e.append(e.sign(all, e.Registrar))

	ids := func(p TemplatesPage) []string {
		var out []string
		for _, t := range p.Templates {
			out = append(out, t.Template.ID)
		}
		return out
	}
	for _, tc := range []struct {
		agency string
		want   []string
	}{
		{"", []string{"netralitas-2024", "netralitas-pemilu-2029", "netralitas-pilkada-2024", "netralitas-pilkada-2029", "netralitas-pilkades-2025"}},
		{"7601", []string{"netralitas-2024", "netralitas-pilkada-2024", "netralitas-pilkada-2029", "netralitas-pilkades-2025"}},
		{"1810", []string{"netralitas-pemilu-2029", "netralitas-pilkada-2029"}},
		{"9999", []string{"netralitas-pilkada-2029"}},
	} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			p, err := e.log.Templates(ctx, tc.agency, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(p)...)
			if !p.More {
				break
			}
			after = p.Templates[len(p.Templates)-1].Template.ID
			if pages > 10 {
				t.Fatal("no end")
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("agency %q: %v, want %v", tc.agency, got, tc.want)
		}
	}
	p, err := e.log.Templates(ctx, "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range p.Templates {
		if pt.LoggedAt.IsZero() || pt.Template.SHA256 != pledge.TextHash(pt.Template.Text) {
			t.Errorf("%s: %+v", pt.Template.ID, pt)
		}
		if pt.Template.ID == "netralitas-2024" && pt.Index != 0 {
			t.Errorf("netralitas-2024 at index %d, want 0", pt.Index)
		}
	}
	for _, limit := range []int{0, 1001} {
		if _, err := e.log.Templates(ctx, "", "", limit); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}
