// The verification page: it checks a pakta bundle in this browser with the
// verifier compiled to WebAssembly (verify/wasm), against a trust policy
// fetched from the server once or dropped by the reader. After the page
// and the policy are loaded, nothing is asked of the server: a bundle is
// proved without trusting the server that served it.
//
// Everything shown from a bundle, a policy or a report is inserted with
// textContent, never as markup, so that no entry can inject any.
"use strict";

(function () {
  const MAX_BUNDLE = 1 << 20; // verify.MaxBundleSize
  const MAX_POLICY = 1 << 20;

  const L = {
    id: {
      "title": "Verifikasi Pakta Integritas",
      "intro": "Pemeriksaan dijalankan di peramban ini, bukan di server: bundel dibuktikan dengan kebijakan kepercayaan saja, tanpa mempercayai server yang menyajikan halaman ini.",
      "loading": "Memuat pemeriksa…",
      "drop": "Letakkan berkas bundel (.pakta.json) di sini",
      "choose": "atau pilih berkas",
      "policy": "Kebijakan kepercayaan (policy.json)",
      "policy-choose": "Gunakan policy.json milik Anda sendiri",
      "claim": "Klaim yang diperiksa (opsional)",
      "claim-scheme": "Jenis nomor identitas",
      "claim-agency": "Kode instansi (untuk agency)",
      "claim-id": "Nomor identitas",
      "claim-date": "Tanggal pakta (TTTT-BB-HH)",
      "claim-template": "Templat (opsional)",
      "claim-election": "Pemilihan (opsional)",
      "claim-check": "Periksa klaim",
      "claim-clear": "Hapus klaim",
      "checks": "Pemeriksaan",
      "meanings": "Artinya bagi sengketa",
      "facts": "Fakta yang dibuktikan oleh pemeriksaan",
      "text": "Teks pakta integritas, sebagaimana ditandatangani",
      "not-proven": "Yang tidak dibuktikan oleh bundel ini",
      "footer": "pakta: log transparansi pakta integritas netralitas. Bundel juga dapat diperiksa tanpa jaringan dengan perintah pakta verify.",
      "ready": "Pemeriksa siap: berjalan di peramban ini (WebAssembly). Pilih atau letakkan berkas bundel.",
      "ready-no-policy": "Pemeriksa siap, tetapi belum ada kebijakan kepercayaan: letakkan policy.json.",
      "no-wasm": "Pemeriksa tidak dapat dimuat: %s",
      "policy-server": "Kebijakan dari server ini (%s): log %s, kunci log %s. Bandingkan dengan salinan yang Anda peroleh dari tempat lain.",
      "policy-file": "Kebijakan dari berkas Anda %s: log %s, kunci log %s.",
      "policy-bad": "Berkas %s bukan kebijakan kepercayaan: %s",
      "policy-missing": "Kebijakan tidak dapat diambil dari server (%s): letakkan policy.json.",
      "bundle-from": "Bundel: %s",
      "bundle-fetching": "Mengambil bundel %s…",
      "bundle-fetch-failed": "Bundel %s tidak dapat diambil: %s",
      "bundle-other-origin": "Hanya bundel dari server ini yang diambil; unduh %s lalu letakkan berkasnya di sini.",
      "too-large": "Berkas %s lebih besar dari %d bita: bukan bundel.",
      "not-bundle": "Berkas %s tidak dapat diperiksa: %s",
      "policy-log": "Kebijakan kepercayaan: log %s",
      "checked": "Diperiksa di peramban ini pada %s.",
      "claim-incomplete": "Klaim memerlukan nomor identitas dan tanggal.",
      "verdict-pass": "HASIL: LULUS, semua pemeriksaan lulus",
      "verdict-fail": "HASIL: GAGAL, pemeriksaan pertama yang gagal: [%s]",
      "PASS": "LULUS", "FAIL": "GAGAL", "NOT CHECKED": "TIDAK DIPERIKSA",
      "log-line": "log \"%s\", entri nomor %d dari %d",
      "Entry": "Entri", "Logged by the log at": "Dicatat oleh log pada",
      "Signer": "Penanda tangan", "Identifier": "Nomor identitas", "Position": "Jabatan",
      "Unit": "Unit kerja", "Agency": "Instansi", "code": "%s (kode %s)",
      "Employment": "Status kepegawaian", "Election": "Pemilihan", "Place and date": "Tempat dan tanggal",
      "Signed at, by the signer's own clock": "Ditandatangani pada, menurut jam penanda tangan",
      "at index": "%s, indeks %d",
      "Template": "Templat", "published": "%s, diterbitkan oleh %s pada %s, indeks %d",
      "Deadline": "Batas waktu", "none": "tidak ada", "On time or late": "Tepat waktu atau terlambat",
      "on-time": "TEPAT WAKTU: log mencatat pakta integritas sebelum batas waktu",
      "late": "TERLAMBAT: log mencatat pakta integritas setelah batas waktu",
      "Signing key": "Kunci penanda tangan", "Key enrolled": "Kunci didaftarkan",
      "enrolled": "oleh %s pada %s, indeks %d; kunci itu sendiri turut menandatangani pendaftarannya",
      "Key valid": "Masa berlaku kunci", "from-no-end": "sejak %s tanpa batas akhir", "from-until": "sejak %s sampai %s",
      "certificate": "%s, berbasis sertifikat (tanpa pendaftaran kunci)",
      "clock": "%s pukul %s",
      "type:pledge": "pakta integritas", "type:enrollment": "pendaftaran kunci", "type:revocation": "pencabutan kunci",
      "type:template": "templat", "type:ruling": "putusan",
      "skipped": "Pemeriksaan berikut tidak dilakukan karena pemeriksaan sebelumnya gagal: bundel tidak membuktikan apa pun mengenai hal-hal tersebut.",
      "m:bundle": "Berkas ini rusak atau bukan bundel pakta. Tidak ada isinya yang dapat dijadikan pegangan: mintalah kembali bundel entri tersebut dari log.",
      "m:checkpoint": "Bundel ini tidak dijamin oleh log yang disebut dalam kebijakan kepercayaan, atau keadaan log yang ditandatangani di dalamnya telah diubah. Bundel ini bukan bukti bahwa sesuatu telah dicatat: ambillah bundel langsung dari log.",
      "m:inclusion": "Entri, pendaftaran kuncinya, atau templatnya tidak ada dalam log sebagaimana ditetapkan oleh checkpoint: isinya telah diubah, atau tidak berasal dari log ini. Bundel tidak menunjukkan bahwa pakta integritas ini telah dicatat.",
      "m:signature": "Tanda tangan tidak dapat diverifikasi: dokumen diubah setelah ditandatangani, atau ditandatangani dengan kunci lain daripada yang disebut. Bundel tidak menunjukkan bahwa siapa pun menandatangani teks ini.",
      "m:key": "Tidak terbukti bahwa kunci yang menandatangani adalah milik orang yang disebut, atau kunci itu tidak berlaku pada saat itu. Jika orang tersebut menyatakan \"itu bukan tanda tangan saya\", bundel ini tidak membantahnya.",
      "m:template": "Tidak terbukti bahwa teks yang ditandatangani adalah rumusan resmi yang diterbitkan sebelum pakta integritas untuk pemilihan dan instansi ini. Bundel tidak menunjukkan bahwa orang tersebut menandatangani pakta integritas resmi.",
      "m:statement": "Dokumen yang ditandatangani melanggar aturan pakta integritas (nomor identitas, tanggal, teks, atau hash-nya). Dokumen ini tidak dapat dijadikan pegangan sebagai pakta integritas, walaupun telah ditandatangani.",
      "m:time": "Waktu yang dituliskan penanda tangan pada pakta integritas tidak sesuai dengan waktu log mencatatnya. Waktu menurut penanda tangan tidak dapat dijadikan pegangan; hanya waktu log (logged_at) yang dapat, dan di sini keduanya tidak terbukti konsisten.",
      "m:claim": "Bundel ini mungkin asli, tetapi tidak menunjukkan apa yang diklaim (orangnya, tanggalnya, templatnya, atau pemilihannya): bundel ini bukti pakta integritas yang lain, bukan bukti klaim ini.",
      "m:other": "Pemeriksaan ini gagal: bundel tidak membuktikan hal yang diperiksanya (lihat barisnya di atas).",
      "months": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"],
    },
    en: {
      "title": "Pledge verification",
      "intro": "The checking runs in this browser, not on the server: the bundle is proved with the trust policy alone, without trusting the server that served this page.",
      "loading": "Loading the verifier…",
      "drop": "Drop a bundle file (.pakta.json) here",
      "choose": "or choose a file",
      "policy": "Trust policy (policy.json)",
      "policy-choose": "Use your own policy.json",
      "claim": "Claim to check (optional)",
      "claim-scheme": "Identifier scheme",
      "claim-agency": "Agency code (for agency)",
      "claim-id": "Identifier",
      "claim-date": "The pledge's date (YYYY-MM-DD)",
      "claim-template": "Template (optional)",
      "claim-election": "Election (optional)",
      "claim-check": "Check the claim",
      "claim-clear": "Clear the claim",
      "checks": "Checks",
      "meanings": "What this means for the dispute",
      "facts": "Facts the checks established",
      "text": "Text of the pledge, as signed",
      "not-proven": "What this bundle does not prove",
      "footer": "pakta: a transparency log of neutrality pledges. A bundle can also be checked offline with the pakta verify command.",
      "ready": "The verifier is ready: it runs in this browser (WebAssembly). Choose or drop a bundle file.",
      "ready-no-policy": "The verifier is ready, but there is no trust policy yet: drop a policy.json.",
      "no-wasm": "The verifier cannot be loaded: %s",
      "policy-server": "Policy from this server (%s): log %s, log key %s. Compare it with a copy you obtained elsewhere.",
      "policy-file": "Policy from your file %s: log %s, log key %s.",
      "policy-bad": "The file %s is not a trust policy: %s",
      "policy-missing": "The policy cannot be fetched from the server (%s): drop a policy.json.",
      "bundle-from": "Bundle: %s",
      "bundle-fetching": "Fetching the bundle %s…",
      "bundle-fetch-failed": "The bundle %s cannot be fetched: %s",
      "bundle-other-origin": "Only bundles from this server are fetched; download %s and drop the file here.",
      "too-large": "The file %s is larger than %d bytes: not a bundle.",
      "not-bundle": "The file %s cannot be checked: %s",
      "policy-log": "Trust policy: log %s",
      "checked": "Checked in this browser at %s.",
      "claim-incomplete": "A claim needs an identifier and a date.",
      "verdict-pass": "VERDICT: PASS, every check passed",
      "verdict-fail": "VERDICT: FAIL, first failed check: [%s]",
      "PASS": "PASS", "FAIL": "FAIL", "NOT CHECKED": "NOT CHECKED",
      "log-line": "log \"%s\", entry %d of %d",
      "Entry": "Entry", "Logged by the log at": "Logged by the log at",
      "Signer": "Signer", "Identifier": "Identifier", "Position": "Position",
      "Unit": "Unit", "Agency": "Agency", "code": "%s (code %s)",
      "Employment": "Employment", "Election": "Election", "Place and date": "Place and date",
      "Signed at, by the signer's own clock": "Signed at, by the signer's own clock",
      "at index": "%s, index %d",
      "Template": "Template", "published": "%s, published by %s at %s, index %d",
      "Deadline": "Deadline", "none": "none", "On time or late": "On time or late",
      "on-time": "ON TIME: the log recorded the pledge before the deadline",
      "late": "LATE: the log recorded the pledge after the deadline",
      "Signing key": "Signing key", "Key enrolled": "Key enrolled",
      "enrolled": "by %s at %s, index %d; the key itself signed the enrollment too",
      "Key valid": "Key valid", "from-no-end": "from %s with no end", "from-until": "from %s until %s",
      "certificate": "%s, certificate-backed (no enrollment)",
      "clock": "%s, %s",
      "type:pledge": "pledge", "type:enrollment": "key enrollment", "type:revocation": "key revocation",
      "type:template": "template", "type:ruling": "ruling",
      "skipped": "These checks were not made, because an earlier one failed: the bundle establishes nothing about them.",
      "m:bundle": "The file is damaged or is not a pakta bundle. Nothing in it can be relied on: ask the log for the bundle of the entry again.",
      "m:checkpoint": "The bundle is not vouched for by the log that the trust policy names, or its signed state of the log was altered. It is no evidence that anything was logged: fetch the bundle from the log itself.",
      "m:inclusion": "The entry, its key's enrollment or its template is not in the log as the checkpoint fixes it: it was altered, or it does not come from this log. The bundle does not show that this pledge was logged.",
      "m:signature": "The signature does not verify: the document was changed after it was signed, or it was signed with another key than the one named. It does not show that anyone signed this text.",
      "m:key": "The key that signed is not shown to belong to the person named, or was not valid then. If the person says \"that is not my signature\", this bundle does not contradict them.",
      "m:template": "The signed text is not shown to be the official wording published before the pledge for this election and agency. The bundle does not show that the person signed the official pledge.",
      "m:statement": "The signed document breaks the rules of a pledge (identifier, date, text or its hash). It cannot be relied on as a pledge, even though it was signed.",
      "m:time": "The time the signer wrote on the pledge does not agree with when the log recorded it. The signer's own time cannot be relied on; only the log's time (logged_at) can, and it is not shown here to be consistent.",
      "m:claim": "The bundle may be genuine, but it does not show what was claimed (the person, the date, the template or the election): it is evidence of another pledge, not of this claim.",
      "m:other": "This check failed: the bundle does not establish what it checks (see its line above).",
      "months": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    },
  };

  const state = {
    lang: "id",
    ready: false,       // the WebAssembly verifier is running
    policy: null,       // Uint8Array
    policyInfo: null,   // {source, name, origin, key}
    bundle: null,       // Uint8Array
    bundleName: "",
    claim: "",          // JSON, or "" for none
    notice: null,       // [key, ...args]: a message about the last input
  };

  const $ = (id) => document.getElementById(id);

  // t words a key in the page's language: %s and %d take the arguments in
  // order (every argument is text: it is inserted with textContent).
  function t(key, ...args) {
    const s = L[state.lang][key] ?? L.en[key] ?? key;
    let i = 0;
    return s.replace(/%[sd]/g, () => String(args[i++]));
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setStatus(state_, text) {
    const s = $("status");
    s.dataset.state = state_;
    s.textContent = text;
  }

  // stamp writes an RFC 3339 time as it is written (its own offset), with
  // the zone's name: 27 November 2023 pukul 09.00.06 WITA.
  function stamp(iso, zone) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(iso || "");
    if (!m) return iso || "";
    const day = `${Number(m[3])} ${L[state.lang].months[Number(m[2]) - 1]} ${m[1]}`;
    const clock = state.lang === "id" ? `${m[4]}.${m[5]}.${m[6]}` : `${m[4]}:${m[5]}:${m[6]}`;
    return `${t("clock", day, clock)} ${zone}`;
  }

  // both writes a time in the pledge's zone and in UTC (only UTC when the
  // report gives no local time).
  function both(local, utc, zone) {
    const u = stamp(utc, "UTC");
    if (!local || !zone) return u;
    return `${stamp(local, zone)} (${u})`;
  }

  function day(d) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d || "");
    if (!m) return d || "";
    return `${Number(m[3])} ${L[state.lang].months[Number(m[2]) - 1]} ${m[1]}`;
  }

  const quoted = (list) => (list || []).map((n) => `"${n}"`).join(", ");

  function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const e of document.querySelectorAll("[data-t]")) {
      if (e.id === "status") continue;
      e.textContent = t(e.dataset.t);
    }
    for (const b of document.querySelectorAll("button[data-lang]")) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
    }
  }

  function showPolicyInfo() {
    const p = $("policy-status");
    const i = state.policyInfo;
    if (!i) {
      p.textContent = "";
      return;
    }
    // The log the bundle is checked against, in sight while the box is
    // closed.
    document.querySelector("#policy-box summary").textContent = t("policy-log", `"${i.origin}"`);
    p.textContent = i.source === "server" ? t("policy-server", i.name, `"${i.origin}"`, i.key) : t("policy-file", i.name, `"${i.origin}"`, i.key);
  }

  function showStatus() {
    if (state.notice) {
      setStatus(state.notice[0], t(...state.notice.slice(1)));
    } else if (!state.ready) {
      setStatus("loading", t("loading"));
    } else if (!state.policy) {
      setStatus("error", t("ready-no-policy"));
    } else {
      setStatus("ready", t("ready"));
    }
  }

  function refresh() {
    translatePage();
    showPolicyInfo();
    showStatus();
    $("bundle-name").textContent = state.bundleName ? t("bundle-from", state.bundleName) : "";
    verifyNow();
  }

  // readPolicy keeps a policy's bytes when they parse as one (the
  // verifier checks it fully).
  function usePolicy(bytes, source, name) {
    let p;
    try {
      p = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      state.notice = ["error", "policy-bad", name, e.message];
      return false;
    }
    if (!p || typeof p !== "object" || typeof p.origin !== "string" || typeof p.log_key !== "string") {
      state.notice = ["error", "policy-bad", name, "origin, log_key"];
      return false;
    }
    state.policy = bytes;
    state.policyInfo = { source, name, origin: p.origin, key: p.log_key };
    return true;
  }

  function verifyNow() {
    const box = $("report");
    if (!state.ready || !state.policy || !state.bundle) {
      box.hidden = true;
      return;
    }
    let out;
    try {
      out = JSON.parse(globalThis.paktaVerify(state.bundle, state.policy, state.claim, state.lang));
    } catch (e) {
      out = { error: String(e) };
    }
    if (out.error) {
      box.hidden = true;
      setStatus("error", t("not-bundle", state.bundleName, out.error));
      return;
    }
    showReport(out);
    box.hidden = false;
    if (!state.notice) {
      const now = new Date();
      setStatus(out.verdict === "pass" ? "pass" : "fail", t("checked", now.toLocaleString(state.lang === "id" ? "id-ID" : "en-GB")));
    }
  }

  function showReport(r) {
    const skipped = new Set(r.skipped || []);
    const failed = (r.checks || []).find((c) => !c.pass && !skipped.has(c.id));
    const v = $("verdict");
    v.dataset.verdict = r.verdict;
    v.className = "verdict " + (r.verdict === "pass" ? "pass" : "fail");
    v.textContent = r.verdict === "pass" ? t("verdict-pass") : t("verdict-fail", failed ? failed.id : "?");

    const f = r.entry;
    $("log-line").textContent = f ? t("log-line", f.origin, f.index, f.tree_size) : "";

    const checks = $("checks");
    checks.replaceChildren();
    const meanings = $("meanings");
    meanings.replaceChildren();
    for (const c of r.checks || []) {
      const kind = c.pass ? "pass" : skipped.has(c.id) ? "skipped" : "fail";
      const li = el("li", "check " + kind);
      li.dataset.check = c.id;
      li.append(el("span", "mark", t(c.pass ? "PASS" : skipped.has(c.id) ? "NOT CHECKED" : "FAIL")), " ", el("code", "", `[${c.id}]`), " ", el("span", "reason", c.reason));
      checks.append(li);
      if (kind === "fail") {
        const m = el("p", "meaning fail");
        m.append(el("code", "", `[${c.id}]`), " ", t(L.en["m:" + c.id] ? "m:" + c.id : "m:other"));
        meanings.append(m);
      }
    }
    // The checks that did not run share one paragraph.
    const notRun = (r.checks || []).filter((c) => skipped.has(c.id));
    if (notRun.length) {
      const m = el("p", "meaning skipped");
      m.append(el("code", "", notRun.map((c) => `[${c.id}]`).join(" ")), " ", t("skipped"));
      meanings.append(m);
    }
    $("meanings-box").hidden = meanings.childElementCount === 0;

    const facts = $("facts");
    facts.replaceChildren();
    for (const [label, value] of f ? factsOf(f) : []) {
      facts.append(el("dt", "", label), el("dd", "", value));
    }
    $("facts-box").hidden = facts.childElementCount === 0;

    $("pledge-text").textContent = f && f.text ? f.text : "";
    $("text-box").hidden = !(f && f.text);

    const np = $("not-proven");
    np.replaceChildren(...(r.not_proven || []).map((s) => el("li", "", s)));
  }

  // factsOf lists what the checks established, as the printed report does.
  function factsOf(f) {
    const out = [];
    const add = (k, v) => out.push([t(k), v]);
    const zone = f.zone || "";
    if (!f.signer) {
      add("Entry", t("type:" + f.type));
      add("Logged by the log at", t("at index", both("", f.logged_at, ""), f.index));
      return out;
    }
    const p = f.signer;
    add("Signer", p.name);
    add("Identifier", `${String(p.scheme).toUpperCase()} ${p.id}`);
    if (p.position) add("Position", p.position);
    if (p.unit) add("Unit", p.unit);
    add("Agency", t("code", p.agency ? p.agency.name : "", p.agency ? p.agency.code : ""));
    add("Employment", p.employment);
    add("Election", f.election);
    add("Place and date", `${f.place}, ${day(f.date)}`);
    add("Signed at, by the signer's own clock", both(f.signed_at, f.signed_at_utc, zone));
    add("Logged by the log at", t("at index", both(f.logged_at_local, f.logged_at, zone), f.index));
    const tm = f.published;
    if (tm) {
      add("Template", t("published", tm.id, quoted(tm.publishers), both(tm.logged_at_local, tm.logged_at, zone), tm.index));
      if (!tm.deadline || tm.on_time === undefined) {
        add("Deadline", t("none"));
      } else {
        add("Deadline", both(tm.deadline_local, tm.deadline_utc, zone));
        add("On time or late", t(tm.on_time ? "on-time" : "late"));
      }
    }
    const k = f.key;
    if (k) {
      add("Signing key", f.kid);
      add("Key enrolled", t("enrolled", quoted(k.registrars), both(k.logged_at_local, k.logged_at, zone), k.index));
      add("Key valid", k.valid_until ? t("from-until", k.valid_from, k.valid_until) : t("from-no-end", k.valid_from));
    } else if (f.kid) {
      add("Signing key", t("certificate", f.kid));
    }
    return out;
  }

  async function readFile(file, limit) {
    if (file.size > limit) {
      throw new Error(t("too-large", file.name, limit));
    }
    return new Uint8Array(await file.arrayBuffer());
  }

  // isPolicy tells a dropped policy from a dropped bundle by its members.
  function isPolicy(bytes) {
    try {
      const v = JSON.parse(new TextDecoder().decode(bytes));
      return v && typeof v === "object" && "log_key" in v && "origin" in v;
    } catch (e) {
      return false;
    }
  }

  async function takeFiles(files, as) {
    state.notice = null;
    for (const file of files) {
      let bytes;
      try {
        bytes = await readFile(file, Math.max(MAX_BUNDLE, MAX_POLICY));
      } catch (e) {
        state.notice = ["error", "%s", e.message];
        continue;
      }
      if (as === "policy" || (as === "" && isPolicy(bytes))) {
        usePolicy(bytes, "file", file.name);
      } else {
        state.bundle = bytes;
        state.bundleName = file.name;
      }
    }
    refresh();
  }

  async function fetchBundle(param) {
    let u;
    try {
      u = new URL(param, location.href);
    } catch (e) {
      state.notice = ["error", "bundle-fetch-failed", param, e.message];
      return;
    }
    if (u.origin !== location.origin) {
      state.notice = ["error", "bundle-other-origin", u.href];
      return;
    }
    setStatus("loading", t("bundle-fetching", u.pathname));
    try {
      const resp = await fetch(u, { credentials: "same-origin", cache: "no-cache" });
      if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
      const b = new Uint8Array(await resp.arrayBuffer());
      if (b.length > MAX_BUNDLE) throw new Error(t("too-large", u.pathname, MAX_BUNDLE));
      state.bundle = b;
      state.bundleName = u.pathname;
    } catch (e) {
      state.notice = ["error", "bundle-fetch-failed", u.pathname, e.message];
    }
  }

  async function loadWasm(url) {
    const go = new Go();
    let result;
    const resp = fetch(url);
    if (WebAssembly.instantiateStreaming) {
      result = await WebAssembly.instantiateStreaming(resp, go.importObject);
    } else {
      const r = await resp;
      result = await WebAssembly.instantiate(await r.arrayBuffer(), go.importObject);
    }
    // run returns when the program exits; it never does, and paktaVerify
    // is set before its first wait.
    go.run(result.instance);
    if (typeof globalThis.paktaVerify !== "function") throw new Error("paktaVerify missing");
  }

  async function loadPolicy(url) {
    try {
      const resp = await fetch(url, { cache: "no-cache" });
      if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
      const b = new Uint8Array(await resp.arrayBuffer());
      if (b.length > MAX_POLICY) throw new Error(t("too-large", url, MAX_POLICY));
      usePolicy(b, "server", new URL(url, location.href).href);
    } catch (e) {
      state.notice = ["error", "policy-missing", e.message];
    }
  }

  function claimOf() {
    let scheme = $("claim-scheme").value;
    if (scheme === "agency") scheme = "agency:" + $("claim-agency").value.trim();
    const c = { scheme, id: $("claim-id").value.trim(), date: $("claim-date").value.trim() };
    if (!c.id || !c.date) return null;
    const tmpl = $("claim-template").value.trim();
    const election = $("claim-election").value.trim();
    if (tmpl) c.template = tmpl;
    if (election) c.election = election;
    return JSON.stringify(c);
  }

  function wire() {
    for (const b of document.querySelectorAll("button[data-lang]")) {
      b.addEventListener("click", () => {
        state.lang = b.dataset.lang;
        refresh();
      });
    }
    $("bundle-file").addEventListener("change", (e) => takeFiles(e.target.files, "bundle"));
    $("policy-file").addEventListener("change", (e) => takeFiles(e.target.files, "policy"));
    const drop = $("drop");
    // A file dropped anywhere is taken, not opened by the browser (which
    // would leave the page).
    for (const target of [document, drop]) {
      target.addEventListener("dragover", (e) => {
        e.preventDefault();
        drop.classList.add("over");
      });
      target.addEventListener("dragleave", () => drop.classList.remove("over"));
    }
    document.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) takeFiles(e.dataTransfer.files, "");
    });
    $("claim").addEventListener("submit", (e) => {
      e.preventDefault();
      const c = claimOf();
      state.notice = c === null ? ["error", "claim-incomplete"] : null;
      if (c !== null) state.claim = c;
      refresh();
    });
    $("claim").addEventListener("reset", () => {
      state.claim = "";
      state.notice = null;
      setTimeout(refresh, 0);
    });
  }

  async function start() {
    const body = document.body;
    const q = new URLSearchParams(location.search);
    state.lang = q.get("lang") === "en" || body.dataset.lang === "en" ? "en" : "id";
    wire();
    translatePage();
    showStatus();
    try {
      await loadWasm(body.dataset.wasm);
      state.ready = true;
    } catch (e) {
      setStatus("error", t("no-wasm", e.message));
      return;
    }
    await loadPolicy(body.dataset.policy);
    if (q.get("bundle")) await fetchBundle(q.get("bundle"));
    // From here on the page needs nothing from the server.
    body.dataset.ready = "1";
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
