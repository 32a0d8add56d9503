package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/verify"
)

// TestPostAnswer: the answer to POST /v1/entries (built from what the
// sequencer held, ledger.ResultBundle) is, once nothing else is appended,
// the bundle GET /v1/entries/{index} serves, byte for byte; with many
// clients posting at once, every answer verifies and proves its entry
// under a checkpoint that covers it, and a resubmission is answered 200
// with the bundle of the entry already logged.
func TestPostAnswer(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.publish(logtest.Election)
	const clients = 32
	type answer struct {
		status int
		body   []byte
		err    error
	}
	post := func(jws []byte) answer {
		ct := MediaTypeJOSE
		if jws[0] == '{' {
			ct = MediaTypeJOSEJSON
		}
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/entries", ct, bytes.NewReader(jws))
		if err != nil {
			return answer{err: err}
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, body: b, err: err}
	}
	answers := make([][]answer, clients)
	var wg sync.WaitGroup
	for n := range clients {
		key, _ := seedKey(t, fmt.Sprintf("post answer %d", n))
		enr := e.enrollment(person(600+n), key)
		p := e.sign(e.PledgeStatement(person(600+n), logtest.Election), key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := post(enr)
			answers[n] = append(answers[n], a)
			if a.status != http.StatusCreated {
				return
			}
			answers[n] = append(answers[n], post(p), post(p))
		}()
	}
	wg.Wait()
	for n, as := range answers {
		want := []int{http.StatusCreated, http.StatusCreated, http.StatusOK}
		if len(as) != len(want) {
			t.Fatalf("client %d: %d answers: %+v", n, len(as), as)
		}
		for i, a := range as {
			if a.err != nil || a.status != want[i] {
				t.Fatalf("client %d, answer %d: %v %d %s", n, i, a.err, a.status, a.body)
			}
			r, err := verify.VerifyBytes(bytes.TrimSuffix(a.body, []byte("\n")), e.cfg.Policy, nil)
			if err != nil || !r.Passed() {
				t.Fatalf("client %d, answer %d: %v %s", n, i, err, r.Text())
			}
		}
		first, _ := bundleIndex(t, as[1].body)
		if again, _ := bundleIndex(t, as[2].body); again != first {
			t.Fatalf("client %d: the resubmission names another entry", n)
		}
	}
	// Quiet: a POST's answer is the GET's bundle.
	key, _ := seedKey(t, "post answer last")
	for _, jws := range [][]byte{e.enrollment(person(700), key), e.sign(e.PledgeStatement(person(700), logtest.Election), key)} {
		a := e.submit(jws)
		if a.status != http.StatusCreated {
			t.Fatalf("%d %s", a.status, a.body)
		}
		i, _ := bundleIndex(t, a.body)
		g := e.get("/v1/entries/" + strconv.FormatUint(i, 10))
		if g.status != http.StatusOK || !bytes.Equal(g.body, a.body) {
			t.Fatalf("entry %d: POST answered\n%s\nGET serves\n%s", i, a.body, g.body)
		}
	}
}
