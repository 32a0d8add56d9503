package ledger

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/ledger/witness"
	"github.com/pakta-id/pakta/verify"
)

// testWitness is pakta's own witness behind an HTTP server that can be
// taken down.
type testWitness struct {
	name string
	w    *witness.Witness
	vkey string
	srv  *httptest.Server
	down atomic.Bool
	at   atomic.Int64 // the witness's clock, Unix seconds
}

func startWitness(t testing.TB, name string, logKeys ...string) *testWitness {
	t.Helper()
	skey, vkey, err := verify.GenerateWitnessKey(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	tw := &testWitness{name: name, vkey: vkey}
	tw.at.Store(logtest.Morning.Add(14 * time.Minute).Unix())
	signer, err := verify.NewCosignatureSigner(skey, func() time.Time { return time.Unix(tw.at.Load(), 0) })
	if err != nil {
		t.Fatal(err)
	}
	if tw.w, err = witness.New(witness.Config{Signer: signer, Logs: logKeys, Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	tw.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if tw.down.Load() {
			// A witness that is down: the connection drops.
			if hj, ok := rw.(http.Hijacker); ok {
				c, _, _ := hj.Hijack()
				c.Close()
				return
			}
		}
		tw.w.ServeHTTP(rw, r)
	}))
	t.Cleanup(tw.srv.Close)
	return tw
}

func (tw *testWitness) policy() *verify.Witness {
	return &verify.Witness{Name: "Saksi " + tw.name, Key: tw.vkey, URL: tw.srv.URL}
}

// witnessEnv is a log whose policy names the witnesses, retrying fast.
func witnessEnv(t *testing.T, f *logtest.Fixture, quorum int, ws ...*testWitness) *env {
	t.Helper()
	return newEnvOf(t, f, func(c *Config) {
		var list []*verify.Witness
		for _, w := range ws {
			list = append(list, w.policy())
		}
		c.Policy = logtest.WithWitnesses(t, c.Policy, quorum, list...)
		c.Witnesses = WitnessConfig{Retry: 20 * time.Millisecond, Timeout: 2 * time.Second}
	})
}

// waitWitnessed waits until the log has a witnessed checkpoint of at least
// size entries.
func waitWitnessed(t *testing.T, l *Log, size uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, n := l.Witnessed(); n >= size {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no witnessed checkpoint of %d entries; stats %+v", size, l.WitnessStats())
}

func (e *env) pledgeOf(n int) uint64 {
	e.t.Helper()
	p := person(n)
	key, _ := e.enroll(p)
	return e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), key)).Index
}

func verifyBundle(t *testing.T, e *env, index uint64) *verify.Report {
	t.Helper()
	r, err := verify.VerifyBytes(e.bundle(index), e.cfg.Policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWitnessedBundles(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	w1 := startWitness(t, "w1.test/witness", f.VKey)
	w2 := startWitness(t, "w2.test/witness", f.VKey)
	w2.at.Add(60)
	e := witnessEnv(t, f, 2, w1, w2)
	i := e.pledgeOf(1)
	waitWitnessed(t, e.log, i+1)
	r := verifyBundle(t, e, i)
	if !r.Passed() {
		t.Fatal(r.Text())
	}
	c := r.Checks[len(r.Checks)-1]
	for _, want := range []string{"[witness]", `witness "Saksi w1.test/witness" had seen this entry by 27 November 2023 at 01:14:00 UTC (09:14 WITA)`, `"Saksi w2.test/witness" had seen this entry by 27 November 2023 at 01:15:00 UTC`} {
		if !strings.Contains("["+c.ID+"] "+c.Reason, want) {
			t.Errorf("%s lacks %q", c.Reason, want)
		}
	}
	// More entries: the witnesses are asked again, with consistency
	// proofs from the size they cosigned.
	j := e.pledgeOf(2)
	waitWitnessed(t, e.log, j+1)
	if w1.w.Size(testOrigin) < j+1 || w2.w.Size(testOrigin) < j+1 {
		t.Fatalf("witness sizes %d, %d", w1.w.Size(testOrigin), w2.w.Size(testOrigin))
	}
	for _, s := range e.log.WitnessStats() {
		if s.Cosigned == 0 || s.Size < j+1 {
			t.Errorf("stats %+v", s)
		}
	}
	// The witnessed checkpoint survives a restart.
	e.reopen()
	if _, n := e.log.Witnessed(); n < j+1 {
		t.Fatalf("after reopening, witnessed size %d", n)
	}
	if r := verifyBundle(t, e, i); !r.Passed() {
		t.Fatal(r.Text())
	}
}

func TestWitnessDown(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	w1 := startWitness(t, "w1.test/witness", f.VKey)
	w2 := startWitness(t, "w2.test/witness", f.VKey)
	w2.down.Store(true)
	e := witnessEnv(t, f, 2, w1, w2)
	// Appends go on and are acknowledged: they never wait for witnesses.
	start := time.Now()
	i := e.pledgeOf(1)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("appends took %v with a witness down", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.log.WitnessStats()[1].Failed == 0 || e.log.WitnessStats()[0].Size < i+1 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", e.log.WitnessStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := verifyBundle(t, e, i)
	if f := r.Failed(); f == nil || f.ID != verify.CheckWitness || !strings.Contains(f.Reason, "not yet witnessed") {
		t.Fatal(r.Text())
	}
	// The witness comes back: it catches up, and the bundle is witnessed.
	w2.down.Store(false)
	waitWitnessed(t, e.log, i+1)
	if r := verifyBundle(t, e, i); !r.Passed() {
		t.Fatal(r.Text())
	}
}

// TestWitnessRefusesFork: a log operator signs a second history with the
// log's key and shows it to the witnesses that cosigned the first one; they
// refuse it, so the fork never gets a quorum.
func TestWitnessRefusesFork(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	w1 := startWitness(t, "w1.test/witness", f.VKey)
	w2 := startWitness(t, "w2.test/witness", f.VKey)
	honest := witnessEnv(t, f, 2, w1, w2)
	i := honest.pledgeOf(1)
	waitWitnessed(t, honest.log, i+1)
	honest.log.Close()
	honest.log = nil

	fork := witnessEnv(t, f, 2, w1, w2) // the same key and origin, another history
	fork.publish("Pemilu 2024")
	for n := 10; n < 14; n++ {
		fork.pledgeOf(n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := fork.log.WitnessStats()
		if st[0].Refused > 0 && st[1].Refused > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fork was not refused: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, n := fork.log.Witnessed(); n != 0 {
		t.Fatalf("the fork got a witnessed checkpoint of %d entries", n)
	}
	if w1.w.Size(testOrigin) != i+1 {
		t.Fatalf("the witness moved to the fork: size %d", w1.w.Size(testOrigin))
	}
	r := verifyBundle(t, fork, 0)
	if f := r.Failed(); f == nil || f.ID != verify.CheckWitness {
		t.Fatal(r.Text())
	}
}

// TestWitnessLies: a witness answering with a cosignature that does not
// verify gets nothing stored.
func TestWitnessLies(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	w1 := startWitness(t, "w1.test/witness", f.VKey)
	liar := startWitness(t, "w1.test/witness", f.VKey) // same name, another key
	pol := w1.policy()
	pol.URL = liar.srv.URL
	e := newEnvOf(t, f, func(c *Config) {
		c.Policy = logtest.WithWitnesses(t, c.Policy, 1, pol)
		c.Witnesses = WitnessConfig{Retry: 20 * time.Millisecond}
	})
	e.publish("Pemilu 2024")
	deadline := time.Now().Add(5 * time.Second)
	for e.log.WitnessStats()[0].Refused == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", e.log.WitnessStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, n := e.log.Witnessed(); n != 0 {
		t.Fatal("a false cosignature made a witnessed checkpoint")
	}
}
