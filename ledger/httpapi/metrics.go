package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pakta-id/pakta/ledger"
)

type metrics struct {
	requests      *prometheus.CounterVec
	appends       *prometheus.CounterVec
	appendSeconds *prometheus.HistogramVec
	shed          *prometheus.CounterVec
	bodyBytes     prometheus.GaugeFunc
	inFlight      prometheus.GaugeFunc
	log           *logCollector
}

func newMetrics(l *ledger.Log, lim *limits) *metrics {
	return &metrics{
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pakta_http_shed_total",
			Help: "Requests refused with 503 before any work, by reason: body_budget (request bodies in memory at the budget), in_flight (submissions and verifications at their limit).",
		}, []string{"reason"}),
		bodyBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pakta_http_body_bytes",
			Help: "Bytes of request bodies reserved in the body budget now.",
		}, func() float64 { return float64(lim.bodies.inUse()) }),
		inFlight: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pakta_http_in_flight",
			Help: "Submissions and verifications being served now.",
		}, func() float64 { return float64(lim.inFlight.inUse()) }),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pakta_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pakta_http_appends_total",
			Help: "Submissions to POST /v1/entries, by outcome: appended, duplicate, invalid, forbidden, conflict, too_large, unsupported_media_type, pushback, unavailable, error.",
		}, []string{"outcome"}),
		appendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pakta_http_append_duration_seconds",
			Help:    "Time a submission spent in the log's Append (verification, sequencing, durable commit, checkpoint), by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms to 16 s
		}, []string{"outcome"}),
		log: &logCollector{l: l},
	}
}

// Collectors returns the handler's metrics and the log's, for the binary to
// register on its registry; nothing is registered globally.
//
//   - pakta_http_requests_total{route,code}
//   - pakta_http_appends_total{outcome}
//   - pakta_http_append_duration_seconds{outcome} (histogram)
//   - pakta_http_shed_total{reason}, pakta_http_body_bytes,
//     pakta_http_in_flight
//   - pakta_log_tree_size, pakta_log_pending_submissions (gauges)
//   - pakta_log_disk_free_bytes, pakta_log_disk_reserve_bytes,
//     pakta_log_disk_low (gauges), pakta_log_disk_refused_total
//   - pakta_log_batch_size (histogram of submissions per sequenced batch)
//   - pakta_log_appended_total, pakta_log_pushback_total,
//     pakta_log_batch_seconds_total (counters)
//   - with witnesses in the policy: pakta_log_witnessed_size,
//     pakta_witness_cosigned_size{witness},
//     pakta_witness_requests_total{witness,outcome},
//     pakta_witness_last_cosigned_timestamp_seconds{witness}
func (h *Handler) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.m.requests, h.m.appends, h.m.appendSeconds, h.m.shed, h.m.bodyBytes, h.m.inFlight, h.m.log}
}

// MetricsHandler serves the Collectors from a registry of their own, in the
// Prometheus exposition format: the binary mounts it on /metrics. Each call
// builds a new registry; call it once.
func (h *Handler) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collectors()...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// logCollector reads the log's counters at each scrape.
type logCollector struct{ l *ledger.Log }

var (
	descTreeSize = prometheus.NewDesc("pakta_log_tree_size",
		"Entries in the tree of the latest signed checkpoint.", nil, nil)
	descPending = prometheus.NewDesc("pakta_log_pending_submissions",
		"Verified submissions waiting for the sequencer.", nil, nil)
	descBatchSize = prometheus.NewDesc("pakta_log_batch_size",
		"Submissions per batch the sequencer committed (with one sync).", nil, nil)
	descAppended = prometheus.NewDesc("pakta_log_appended_total",
		"Entries appended to the log (by every caller, not only HTTP).", nil, nil)
	descPushback = prometheus.NewDesc("pakta_log_pushback_total",
		"Submissions refused because the sequencer's queue was full.", nil, nil)
	descBatchSeconds = prometheus.NewDesc("pakta_log_batch_seconds_total",
		"Time the sequencer spent applying the rules, committing and signing batches.", nil, nil)
	descDiskFree = prometheus.NewDesc("pakta_log_disk_free_bytes",
		"Free space on the disk under the log.", nil, nil)
	descDiskReserve = prometheus.NewDesc("pakta_log_disk_reserve_bytes",
		"Free disk space below which appends are refused with 507 (0: checks off).", nil, nil)
	descDiskLow = prometheus.NewDesc("pakta_log_disk_low",
		"1 while free disk space is below the reserve and appends are refused, else 0.", nil, nil)
	descDiskRefused = prometheus.NewDesc("pakta_log_disk_refused_total",
		"Submissions and batches refused because free disk space was below the reserve.", nil, nil)
)

// The storage engine's figures: a falling cache hit rate, growing read
// amplification or compaction debt explain slow reads before users do.
var (
	descCacheHits = prometheus.NewDesc("pakta_store_block_cache_hits_total",
		"Reads the storage engine's block cache answered.", nil, nil)
	descCacheMisses = prometheus.NewDesc("pakta_store_block_cache_misses_total",
		"Reads the storage engine's block cache missed (read from files).", nil, nil)
	descCacheBytes = prometheus.NewDesc("pakta_store_block_cache_bytes",
		"Bytes of blocks in the storage engine's cache.", nil, nil)
	descMemTable = prometheus.NewDesc("pakta_store_memtable_bytes",
		"Bytes of the storage engine's memtables (write buffers).", nil, nil)
	descDisk = prometheus.NewDesc("pakta_store_disk_bytes",
		"Bytes the storage engine keeps on disk.", nil, nil)
	descL0 = prometheus.NewDesc("pakta_store_l0_files",
		"Level-0 files of the storage engine; a growing number means compactions lag behind writes.", nil, nil)
	descReadAmp = prometheus.NewDesc("pakta_store_read_amplification",
		"Files a point read of the storage engine may consult.", nil, nil)
	descDebt = prometheus.NewDesc("pakta_store_compaction_debt_bytes",
		"Bytes the storage engine's compactions must rewrite to catch up.", nil, nil)
	descWAL = prometheus.NewDesc("pakta_store_wal_written_bytes_total",
		"Bytes the storage engine wrote to its write-ahead log since the log opened.", nil, nil)
	descWritten = prometheus.NewDesc("pakta_store_written_bytes_total",
		"Bytes the storage engine wrote since the log opened: write-ahead log, flushes and compactions (divided by the WAL's, the write amplification).", nil, nil)
)

// Witnesses: one series per policy witness, named as the policy names it.
var (
	descWitnessSize = prometheus.NewDesc("pakta_witness_cosigned_size",
		"The latest tree size the witness cosigned for this log.", []string{"witness"}, nil)
	descWitnessRequests = prometheus.NewDesc("pakta_witness_requests_total",
		"add-checkpoint requests to the witness, by outcome: cosigned, conflict (409: it had another size), refused (403, 404, 422: a 422 is a fork or a bug), failed (no answer: down or timed out).", []string{"witness", "outcome"}, nil)
	descWitnessLast = prometheus.NewDesc("pakta_witness_last_cosigned_timestamp_seconds",
		"When the witness's last cosignature arrived (0: none since the log opened).", []string{"witness"}, nil)
	descWitnessed = prometheus.NewDesc("pakta_log_witnessed_size",
		"Entries in the newest checkpoint a quorum of witnesses cosigned (0: none yet); bundles carry it.", nil, nil)
)

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTreeSize, descPending, descBatchSize, descAppended, descPushback, descBatchSeconds,
		descDiskFree, descDiskReserve, descDiskLow, descDiskRefused,
		descCacheHits, descCacheMisses, descCacheBytes, descMemTable, descDisk, descL0, descReadAmp, descDebt, descWAL, descWritten,
		descWitnessSize, descWitnessRequests, descWitnessLast, descWitnessed} {
		ch <- d
	}
}

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.l.Stats()
	ch <- prometheus.MustNewConstMetric(descTreeSize, prometheus.GaugeValue, float64(s.Size))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(descAppended, prometheus.CounterValue, float64(s.Appended))
	ch <- prometheus.MustNewConstMetric(descPushback, prometheus.CounterValue, float64(s.Pushback))
	ch <- prometheus.MustNewConstMetric(descBatchSeconds, prometheus.CounterValue, s.BatchTime.Seconds())
	d := c.l.Disk()
	low := 0.0
	if d.Low {
		low = 1
	}
	ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(d.Free))
	ch <- prometheus.MustNewConstMetric(descDiskReserve, prometheus.GaugeValue, float64(d.Reserve))
	ch <- prometheus.MustNewConstMetric(descDiskLow, prometheus.GaugeValue, low)
	ch <- prometheus.MustNewConstMetric(descDiskRefused, prometheus.CounterValue, float64(d.Refused))
	buckets := make(map[float64]uint64, len(ledger.BatchSizeBounds))
	var cumulative, count uint64
	for i, bound := range ledger.BatchSizeBounds {
		cumulative += uint64(s.BatchSizes[i])
		buckets[float64(bound)] = cumulative
	}
	for _, n := range s.BatchSizes {
		count += uint64(n)
	}
	ch <- prometheus.MustNewConstHistogram(descBatchSize, count, float64(s.Submitted), buckets)

	if ws := c.l.WitnessStats(); len(ws) > 0 {
		_, size := c.l.Witnessed()
		ch <- prometheus.MustNewConstMetric(descWitnessed, prometheus.GaugeValue, float64(size))
		for _, w := range ws {
			ch <- prometheus.MustNewConstMetric(descWitnessSize, prometheus.GaugeValue, float64(w.Size), w.Name)
			for _, o := range []struct {
				outcome string
				n       int64
			}{{"cosigned", w.Cosigned}, {"conflict", w.Conflicts}, {"refused", w.Refused}, {"failed", w.Failed}} {
				ch <- prometheus.MustNewConstMetric(descWitnessRequests, prometheus.CounterValue, float64(o.n), w.Name, o.outcome)
			}
			last := 0.0
			if !w.LastCosigned.IsZero() {
				last = float64(w.LastCosigned.Unix())
			}
			ch <- prometheus.MustNewConstMetric(descWitnessLast, prometheus.GaugeValue, last, w.Name)
		}
	}
	st := c.l.StorageStats()
	for _, m := range []struct {
		d *prometheus.Desc
		t prometheus.ValueType
		v float64
	}{
		{descCacheHits, prometheus.CounterValue, float64(st.BlockCacheHits)},
		{descCacheMisses, prometheus.CounterValue, float64(st.BlockCacheMisses)},
		{descCacheBytes, prometheus.GaugeValue, float64(st.BlockCacheBytes)},
		{descMemTable, prometheus.GaugeValue, float64(st.MemTableBytes)},
		{descDisk, prometheus.GaugeValue, float64(st.DiskBytes)},
		{descL0, prometheus.GaugeValue, float64(st.L0Files)},
		{descReadAmp, prometheus.GaugeValue, float64(st.ReadAmplification)},
		{descDebt, prometheus.GaugeValue, float64(st.CompactionDebtBytes)},
		{descWAL, prometheus.CounterValue, float64(st.WALBytes)},
		{descWritten, prometheus.CounterValue, float64(st.BytesWritten)},
	} {
		ch <- prometheus.MustNewConstMetric(m.d, m.t, m.v)
	}
}
