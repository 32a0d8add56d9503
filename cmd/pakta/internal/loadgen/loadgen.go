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
	Clients int // concurrent clients (closed loop); 0 = 32
	// Rate is the pledges/s to offer, open loop: each submission starts
	// at its due time in a goroutine of its own, however many are still
	// waiting, and its latency counts from that due time, so a target
	// that falls behind shows it in full. 0 = closed loop, Clients at a
	// time, as fast as the target answers.
	Rate float64
	// Duration, with Rate, makes the append phase a soak: Rate×Duration
	// pledges (the employees pledge again for new elections, signed just
	// ahead of their due times), measured per Window. 0 = one pledge per
	// employee.
	Duration time.Duration
	// Window is the width of a soak's measurement windows; 0 = 10 s.
	Window time.Duration
	Reads  int // bundle reads and queries each; 0 = Employees
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
	// Windows are a soak's appends per Window of due times.
	Windows []Window `json:"windows,omitempty"`
}

// Window is the measure of the submissions due in one window of a soak.
type Window struct {
	Start  float64        `json:"start_s"` // from the soak's start
	Count  int            `json:"count"`
	Errors map[string]int `json:"errors"`
	P50    float64        `json:"p50_ms"`
	P99    float64        `json:"p99_ms"`
	Max    float64        `json:"max_ms"`
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
	if cfg.Duration > 0 && cfg.Rate <= 0 {
		return nil, errors.New("loadgen: a soak (Duration) needs a Rate")
	}
	if cfg.Window <= 0 {
		cfg.Window = 10 * time.Second
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

	indexes := make([]uint64, cfg.Employees)
	var dups atomic.Int64
	// Each round past the first is a new election, so a new pledge for
	// everyone, under a template of its own published when the round
	// begins.
	var roundsMu sync.Mutex
	published := map[int]error{0: nil}
	roundTemplate := func(ctx context.Context, round int) (string, string, error) {
		if round == 0 {
			return templateID, cfg.Election, nil
		}
		id, election := fmt.Sprintf("%s-r%d", templateID, round), fmt.Sprintf("%s #%d", cfg.Election, round)
		roundsMu.Lock()
		defer roundsMu.Unlock()
		err, done := published[round]
		if !done {
			var jws []byte
			jws, err = pledge.Sign(&pledge.Template{Type: pledge.TypeTemplate, ID: id, Lang: "id", Election: election,
				Agencies: []string{cfg.Agency.Code}, Text: cfg.Text, SHA256: pledge.TextHash(cfg.Text)}, cfg.Registrar)
			if err == nil {
				_, _, err = t.Submit(ctx, jws)
			}
			published[round] = err
		}
		return id, election, err
	}
	signPledge := func(i int) ([]byte, error) {
		at := cfg.Now().In(wib)
		id, election, err := roundTemplate(ctx, i/cfg.Employees)
		if err != nil {
			return nil, fmt.Errorf("loadgen: publishing the template of round %d: %w", i/cfg.Employees, err)
		}
		return pledge.Sign(&pledge.Pledge{Type: pledge.TypePledge, ID: fmt.Sprintf("bench-%d-%d", now.UnixNano(), i),
			Signer: people[i%cfg.Employees], Template: pledge.TemplateRef{ID: id, SHA256: pledge.TextHash(cfg.Text)},
			Text: cfg.Text, Election: election, Place: "Mesuji", Date: at.Format(pledge.DateLayout), SignedAt: at.Format(time.RFC3339)}, keys[i%cfg.Employees])
	}
	submit := func(ctx context.Context, i int, jws []byte) error {
		idx, dup, err := t.Submit(ctx, jws)
		if dup {
			dups.Add(1)
		}
		if i < len(indexes) {
			indexes[i] = idx
		}
		return err
	}
	if cfg.Duration > 0 {
		n := int(cfg.Rate * cfg.Duration.Seconds())
		say("soak: %d pledges at %.0f/s for %s, signed just ahead of their due times…", n, cfg.Rate, cfg.Duration)
		res.Append, res.Windows = soak(ctx, cfg, n, signPledge, submit)
	} else {
		say("pre-signing %d pledges…", cfg.Employees)
		pledges := make([][]byte, cfg.Employees)
		if err := parallel(ctx, cfg.Employees, func(i int) error {
			var err error
			pledges[i], err = signPledge(i)
			return err
		}); err != nil {
			return nil, fmt.Errorf("loadgen: signing pledges: %w", err)
		}
		say("appending %d pledges (%s)…", cfg.Employees, loopName(cfg))
		res.Append, _ = drive(ctx, cfg, len(pledges), cfg.Rate, func(ctx context.Context, i int) error {
			return submit(ctx, i, pledges[i])
		})
	}
	res.Duplicates = int(dups.Load())
	say("append: %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %v", res.Append.PerSecond, res.Append.P50, res.Append.P99, res.Append.Errors)

	date := now.Format(pledge.DateLayout)
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

// loopName says how the append phase offers its load.
func loopName(cfg Config) string {
	if cfg.Rate > 0 {
		return fmt.Sprintf("open loop at %.0f/s", cfg.Rate)
	}
	return fmt.Sprintf("closed loop, %d clients", cfg.Clients)
}

// drive runs op for 0…n-1: closed loop with cfg.Clients clients when rate
// is 0, else open loop (see openLoop).
func drive(ctx context.Context, cfg Config, n int, rate float64, op func(context.Context, int) error) (Phase, error) {
	if rate > 0 {
		lat, errs, elapsed := openLoop(ctx, n, rate, nil, func(ctx context.Context, i int, _ []byte) error { return op(ctx, i) })
		return measure(cfg, lat, errs, elapsed), ctx.Err()
	}
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
				errs[i] = op(ctx, i)
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	return measure(cfg, lat, errs, time.Since(start)), ctx.Err()
}

// openLoop starts op(i) at start + i/rate for i in 0…n-1, each in its own
// goroutine however many are still running (a generator with a fixed pool
// of clients would wait for the target and offer less than rate: the
// coordinated omission that hides a stall), and times each from its due
// time. With prepare, the input of op(i) is made ahead of time by a
// producer that keeps up to two seconds' worth ready; a request whose
// input is late still counts from its due time.
func openLoop(ctx context.Context, n int, rate float64, prepare func(int) ([]byte, error), op func(context.Context, int, []byte) error) (lat []time.Duration, errs []error, elapsed time.Duration) {
	lat = make([]time.Duration, n)
	errs = make([]error, n)
	type input struct {
		b   []byte
		err error
	}
	var ready chan input
	if prepare != nil {
		ready = make(chan input, max(1, int(2*rate)))
		go func() {
			defer close(ready)
			for i := 0; i < n && ctx.Err() == nil; i++ {
				b, err := prepare(i)
				select {
				case ready <- input{b, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			for j := i; j < n; j++ {
				errs[j] = ctx.Err()
			}
			break
		}
		var in input
		if ready != nil {
			var ok bool
			if in, ok = <-ready; !ok {
				in.err = ctx.Err()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if in.err != nil {
				errs[i] = in.err
				return
			}
			errs[i] = op(ctx, i, in.b)
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	return lat, errs, time.Since(start)
}

// soak offers n submissions open loop at cfg.Rate, signing each just ahead
// of its due time, and measures them in windows of cfg.Window by due time.
func soak(ctx context.Context, cfg Config, n int, sign func(int) ([]byte, error), submit func(context.Context, int, []byte) error) (Phase, []Window) {
	lat, errs, elapsed := openLoop(ctx, n, cfg.Rate, sign, submit)
	perWindow := max(1, int(cfg.Rate*cfg.Window.Seconds()))
	var windows []Window
	for from := 0; from < n; from += perWindow {
		to := min(n, from+perWindow)
		p := measure(cfg, lat[from:to], errs[from:to], 0)
		windows = append(windows, Window{Start: float64(from) / cfg.Rate, Count: to - from, Errors: p.Errors, P50: p.P50, P99: p.P99, Max: p.Max})
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "  window %4.0fs  %6d due  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  errors %v\n", float64(from)/cfg.Rate, to-from, p.P50, p.P99, p.Max, p.Errors)
		}
	}
	return measure(cfg, lat, errs, elapsed), windows
}

// measure summarizes latencies of the successful operations and counts
// errors by kind; elapsed (0: not a rate) gives the rate.
func measure(cfg Config, lat []time.Duration, errs []error, elapsed time.Duration) Phase {
	p := Phase{Count: len(lat), Errors: map[string]int{}, Seconds: elapsed.Seconds()}
	ok := make([]time.Duration, 0, len(lat))
	for i, err := range errs {
		if err != nil {
			p.Errors[cfg.Kind(err)]++
			continue
		}
		ok = append(ok, lat[i])
	}
	if elapsed > 0 {
		p.PerSecond = float64(len(ok)) / elapsed.Seconds()
	}
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
	return p
}
