// Package loadgen is pakta's load generator (pakta bench): it enrolls N
// employees, pre-signs their pledges so that signing is not measured, then
// appends them with C concurrent clients, in process or over HTTP, and
// measures appends, bundle reads and person queries.
package loadgen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pakta-id/pakta/pledge"
)

// Target is what the generator drives: a log in process or a server.
type Target interface {
	// Submit appends one JWS; dup reports an entry already logged.
	Submit(ctx context.Context, jws []byte) (index uint64, dup bool, err error)
	// Bundle fetches the bundle of an entry.
	Bundle(ctx context.Context, index uint64) error
	// Pledges queries a person's pledges on a date and returns how many.
	Pledges(ctx context.Context, scheme, id, date string) (int, error)
	// Size is the size of the target's latest checkpoint.
	Size(ctx context.Context) (uint64, error)
}

// Config of a run. Zero values are the documented defaults.
type Config struct {
	Employees int // 0 = 1000
	// First numbers the employees First…First+Employees-1, so that
	// successive runs against one log (pakta bench --dir, to grow it)
	// enroll different people. 0 = start at employee 0.
	First   int
	Clients int     // concurrent clients; 0 = 32
	Rate    float64 // pledges/s to offer (open loop); 0 = as fast as the target takes them
	Reads   int     // bundle reads and queries each; 0 = Employees
	// LogReads is how many bundles to read at random indexes over the
	// whole log, after the other phases: the cold reads of an auditor or a
	// dispute, which this run's own fresh entries do not show. 0 = none.
	LogReads  int
	Registrar *pledge.PrivateKey
	Agency    pledge.Agency // zero = a fictitious agency
	Election  string        // "" = a name unique to the run
	Text      string        // template text; "" = a short built-in text
	// Progress, if set, gets one line per phase.
	Progress io.Writer
	// Now gives signed_at; nil = time.Now.
	Now func() time.Time
	// Kind classifies an error for the report ("409", "503", "timeout"…);
	// nil = the error text.
	Kind func(error) string
}

// Phase is the measurement of one phase.
type Phase struct {
	Count     int            `json:"count"`
	Errors    map[string]int `json:"errors"`
	Seconds   float64        `json:"seconds"`
	PerSecond float64        `json:"per_second"`
	P50       float64        `json:"p50_ms"`
	P90       float64        `json:"p90_ms"`
	P99       float64        `json:"p99_ms"`
	Max       float64        `json:"max_ms"`
}

// Result of a run.
type Result struct {
	Employees  int     `json:"employees"`
	Clients    int     `json:"clients"`
	Rate       float64 `json:"offered_rate,omitempty"`
	Enroll     Phase   `json:"enroll"`
	Append     Phase   `json:"append"`
	Duplicates int     `json:"duplicates"`
	Reads      Phase   `json:"bundle_reads"`
	Queries    Phase   `json:"pledge_queries"`
	LogReads   *Phase  `json:"log_bundle_reads,omitempty"`
	LogSize    uint64  `json:"log_size,omitempty"`
}

// NIP returns a valid, distinct PNS NIP for i < 1998 × 36500.
func NIP(i int) string {
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1998)
	seq, gender := 1+i%999, 1+(i/999)%2
	return fmt.Sprintf("%s%04d01%d%03d", birth.Format("20060102"), birth.Year()+20, gender, seq)
}

const defaultText = "Saya menjaga netralitas dalam pelayanan publik, menghindari konflik kepentingan, " +
	"bijak bermedia sosial, dan menolak politik uang."

// Run executes the phases in order: enroll, pre-sign, append, read, query.
func Run(ctx context.Context, t Target, cfg Config) (*Result, error) {
	if cfg.Registrar == nil {
		return nil, errors.New("loadgen: a registrar key is needed to enroll the employees")
	}
	if cfg.Employees <= 0 {
		cfg.Employees = 1000
	}
	if cfg.First < 0 || cfg.First+cfg.Employees > 1998*36500 {
		return nil, fmt.Errorf("loadgen: employees %d…%d: numbers run from 0 to %d", cfg.First, cfg.First+cfg.Employees-1, 1998*36500-1)
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 32
	}
	if cfg.Reads <= 0 {
		cfg.Reads = cfg.Employees
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Agency == (pledge.Agency{}) {
		cfg.Agency = pledge.Agency{Code: "9999", Name: "Instansi Uji Beban"}
	}
	run := cfg.Now().UnixNano()
	if cfg.Election == "" {
		// Unique per run, so that a run against a log that has seen the same
		// employees before does not conflict with their earlier pledges.
		cfg.Election = fmt.Sprintf("Uji beban %d", run)
	}
	if cfg.Text == "" {
		cfg.Text = defaultText
	}
	if cfg.Kind == nil {
		cfg.Kind = func(err error) string { return err.Error() }
	}
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	wib := time.FixedZone("WIB", 7*3600)
	now := cfg.Now().In(wib)
	people := make([]pledge.Person, cfg.Employees)
	keys := make([]*pledge.PrivateKey, cfg.Employees)
	enrollments := make([][]byte, cfg.Employees)
	say("signing %d enrollments…", cfg.Employees)
	err := parallel(ctx, cfg.Employees, func(i int) error {
		k, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
		if err != nil {
			return err
		}
		keys[i] = k
		n := cfg.First + i
		people[i] = pledge.Person{Scheme: pledge.SchemeNIP, ID: NIP(n), Name: fmt.Sprintf("Pegawai %d", n),
			Unit: fmt.Sprintf("Unit %d", n%20), Agency: cfg.Agency, Employment: pledge.PNS}
		enrollments[i], err = pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: people[i], JWK: k.Public(),
			ValidFrom: now.AddDate(0, 0, -7).Format(time.RFC3339)}, cfg.Registrar, k)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: signing enrollments: %w", err)
	}
	res := &Result{Employees: cfg.Employees, Clients: cfg.Clients, Rate: cfg.Rate}
	// The pledges' template, published first: a pledge is accepted only
	// under a template the log already holds.
	templateID := fmt.Sprintf("bench-%d", run)
	tmpl, err := pledge.Sign(&pledge.Template{Type: pledge.TypeTemplate, ID: templateID, Lang: "id", Election: cfg.Election,
		Agencies: []string{cfg.Agency.Code}, Text: cfg.Text, SHA256: pledge.TextHash(cfg.Text)}, cfg.Registrar)
	if err != nil {
		return nil, fmt.Errorf("loadgen: signing the template: %w", err)
	}
	if _, _, err := t.Submit(ctx, tmpl); err != nil {
		return nil, fmt.Errorf("loadgen: publishing template %s: %w", templateID, err)
	}
	say("enrolling %d employees with %d clients…", cfg.Employees, cfg.Clients)
	res.Enroll, _ = drive(ctx, cfg, len(enrollments), 0, func(ctx context.Context, i int) error {
		_, _, err := t.Submit(ctx, enrollments[i])
		return err
	})
	say("enroll: %.0f/s, errors %v", res.Enroll.PerSecond, res.Enroll.Errors)

	say("pre-signing %d pledges…", cfg.Employees)
	pledges := make([][]byte, cfg.Employees)
	date := now.Format(pledge.DateLayout)
	if err := parallel(ctx, cfg.Employees, func(i int) error {
		at := cfg.Now().In(wib)
		var err error
		pledges[i], err = pledge.Sign(&pledge.Pledge{Type: pledge.TypePledge, ID: fmt.Sprintf("bench-%d-%d", now.UnixNano(), i),
			Signer: people[i], Template: pledge.TemplateRef{ID: templateID, SHA256: pledge.TextHash(cfg.Text)},
			Text: cfg.Text, Election: cfg.Election, Place: "Mesuji", Date: at.Format(pledge.DateLayout), SignedAt: at.Format(time.RFC3339)}, keys[i])
		return err
	}); err != nil {
		return nil, fmt.Errorf("loadgen: signing pledges: %w", err)
	}
	say("appending %d pledges with %d clients…", cfg.Employees, cfg.Clients)
	indexes := make([]uint64, cfg.Employees)
	var dups atomic.Int64
	res.Append, _ = drive(ctx, cfg, len(pledges), cfg.Rate, func(ctx context.Context, i int) error {
		idx, dup, err := t.Submit(ctx, pledges[i])
		if dup {
			dups.Add(1)
		}
		indexes[i] = idx
		return err
	})
	res.Duplicates = int(dups.Load())
	say("append: %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %v", res.Append.PerSecond, res.Append.P50, res.Append.P99, res.Append.Errors)

	say("reading %d bundles…", cfg.Reads)
	res.Reads, _ = drive(ctx, cfg, cfg.Reads, 0, func(ctx context.Context, i int) error {
		return t.Bundle(ctx, indexes[(i*7919)%len(indexes)])
	})
	say("bundle reads: %.0f/s", res.Reads.PerSecond)
	res.Queries, _ = drive(ctx, cfg, cfg.Reads, 0, func(ctx context.Context, i int) error {
		p := people[(i*7919)%len(people)]
		n, err := t.Pledges(ctx, p.Scheme, p.ID, date)
		if err == nil && n == 0 {
			return errors.New("no pledge found")
		}
		return err
	})
	say("pledge queries: %.0f/s", res.Queries.PerSecond)
	if cfg.LogReads > 0 {
		size, err := t.Size(ctx)
		if err != nil {
			return nil, fmt.Errorf("loadgen: reading the log's size: %w", err)
		}
		say("reading %d bundles across the log's %d entries…", cfg.LogReads, size)
		res.LogSize = size
		// A multiplicative hash spreads the reads without repeating
		// (for sizes coprime with it), so the cache sees cold entries.
		p, _ := drive(ctx, cfg, cfg.LogReads, 0, func(ctx context.Context, i int) error {
			return t.Bundle(ctx, (uint64(i)*2654435761+12345)%size)
		})
		res.LogReads = &p
		say("bundle reads across the log: %.0f/s", p.PerSecond)
	}
	return res, nil
}

// parallel runs f for 0…n-1 on every core.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && first.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}

// drive runs op for 0…n-1 with cfg.Clients clients, closed loop, or open
// loop at rate ops/s (latency then counts from the scheduled start, so a
// stalled server shows as latency, not as a lower offered rate).
func drive(ctx context.Context, cfg Config, n int, rate float64, op func(context.Context, int) error) (Phase, error) {
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if rate > 0 {
					t0 = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(t0); d > 0 {
						time.Sleep(d)
					}
				}
				errs[i] = op(ctx, i)
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := Phase{Count: n, Errors: map[string]int{}, Seconds: elapsed.Seconds()}
	ok := lat[:0:0]
	for i, err := range errs {
		if err != nil {
			p.Errors[cfg.Kind(err)]++
			continue
		}
		ok = append(ok, lat[i])
	}
	p.PerSecond = float64(len(ok)) / elapsed.Seconds()
	sort.Slice(ok, func(a, b int) bool { return ok[a] < ok[b] })
	q := func(f float64) float64 {
		if len(ok) == 0 {
			return 0
		}
		return float64(ok[min(len(ok)-1, int(f*float64(len(ok))))]) / float64(time.Millisecond)
	}
	p.P50, p.P90, p.P99 = q(0.50), q(0.90), q(0.99)
	if len(ok) > 0 {
		p.Max = float64(slices.Max(ok)) / float64(time.Millisecond)
	}
	return p, ctx.Err()
}
