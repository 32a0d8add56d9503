// The signing page (DESIGN.md, "Enrollment requests: the employee holds the
// key"). Plain JavaScript, no framework, no network but this origin.
//
// The key is made here with WebCrypto, non-extractable (exportKey of the
// private key fails), and kept in this origin's IndexedDB: it never leaves
// the device. The page builds the same statements as package pledge
// (Enrollment, Pledge), signs them as compact JWS with header
// {"alg","kid","typ"}, and posts them to the log.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const enc = new TextEncoder();

  // ---- messages (Indonesian by default, English one tap away) ----
  let lang = body.dataset.lang || 'id';
  let messages = null;
  let statusKey = null;
  let statusArgs = [];

  function t(key, ...args) {
    const m = messages && messages[lang] && messages[lang][key];
    return (m || key).replace(/\{(\d)\}/g, (_, i) => String(args[+i]));
  }

  function applyLang() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll('[data-t]')) {
      if (el.id === 'status') continue;
      el.textContent = t(el.dataset.t);
    }
    document.title = t('title');
    $('pid-label').textContent = t(kind() === 'nip' ? 'nip' : 'agency_id');
    if (statusKey) setStatus(statusKey, statusClass, ...statusArgs);
    if (state && state.receipt && !$('receipt').hidden) showReceipt();
  }

  let statusClass = '';
  function setStatus(key, cls, ...args) {
    statusKey = key; statusArgs = args; statusClass = cls || '';
    const el = $('status');
    el.textContent = key ? t(key, ...args) : '';
    el.className = statusClass;
  }
  const clearStatus = () => setStatus(null);

  // ---- IndexedDB: one record, this device's enrollment and pledge ----
  const DB = 'pakta', STORE = 'state', ME = 'me';

  function openDB() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function dbDo(mode, f) {
    const db = await openDB();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = f(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  const load = () => dbDo('readonly', (s) => s.get(ME));
  const save = (st) => dbDo('readwrite', (s) => s.put(st, ME));
  const forget = () => dbDo('readwrite', (s) => s.delete(ME));

  // ---- clock: the device's, corrected by the server's Date header ----
  let clockOffset = 0; // ms to add to Date.now()
  let clockWarned = false;

  function noteDate(resp) {
    const d = Date.parse(resp.headers.get('Date') || '');
    if (isNaN(d)) return;
    const off = d - Date.now();
    // Date has one-second resolution and the answer took a while: only
    // a difference over a minute is the device's clock being wrong.
    if (Math.abs(off) > 60000) {
      clockOffset = off;
      if (!clockWarned) {
        clockWarned = true;
        console.warn('device clock is off by', Math.round(off / 1000), 's; using the server time');
      }
    } else {
      clockOffset = 0;
    }
  }
  const now = () => Date.now() + clockOffset;

  // Zones a pledge's signed_at may carry (WIB, WITA, WIT), in minutes.
  const ZONES = { 420: 'WIB', 480: 'WITA', 540: 'WIT' };
  function deviceZone() {
    const off = -new Date().getTimezoneOffset();
    return ZONES[off] ? off : null;
  }
  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  // rfc3339 writes the instant ms in the UTC offset off (minutes), to the
  // second: "2023-11-27T08:15:00+08:00".
  function rfc3339(ms, off) {
    const d = new Date(Math.floor(ms / 1000) * 1000 + off * 60000);
    const sign = off < 0 ? '-' : '+';
    const a = Math.abs(off);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + 'T' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) +
      sign + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }
  const ZONE_NAMES = { 420: 'Asia/Jakarta', 480: 'Asia/Makassar', 540: 'Asia/Jayapura' };
  // localTime writes an instant for people, in the zone off (WIB, WITA or
  // WIT): "7 Desember 2026 23.25.09 WITA".
  function localTime(ms, off) {
    try {
      const f = new Intl.DateTimeFormat(lang === 'id' ? 'id-ID' : 'en-GB',
        { dateStyle: 'long', timeStyle: 'medium', timeZone: ZONE_NAMES[off] });
      return f.format(new Date(ms)) + ' ' + ZONES[off];
    } catch (e) {
      const s = rfc3339(ms, off);
      return s.slice(0, 10) + ' ' + s.slice(11, 19) + ' ' + (ZONES[off] || s.slice(19));
    }
  }
  // spacedNIP writes a NIP as people do: birth date, appointment, gender,
  // sequence ("19870315 201001 1 002").
  function spacedNIP(id) {
    return id.length === 18 ? id.slice(0, 8) + ' ' + id.slice(8, 14) + ' ' + id.slice(14, 15) + ' ' + id.slice(15) : id;
  }

  // ---- text: NFC, one space, no control or format characters ----
  function clean(s) {
    return String(s).normalize('NFC')
      .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/gu, ' ')
      .replace(/\s+/gu, ' ')
      .trim();
  }

  // ---- JWS ----
  function b64url(bytes) {
    let s = '';
    const b = new Uint8Array(bytes);
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  const b64urlText = (s) => b64url(enc.encode(s));

  // makeKey makes a non-extractable key pair: Ed25519 where the browser has
  // it, else P-256 (ES256). The public key is always exportable.
  async function makeKey() {
    try {
      const keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      const raw = await crypto.subtle.exportKey('raw', keys.publicKey);
      return { keys, alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) } };
    } catch (e) {
      const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const j = await crypto.subtle.exportKey('jwk', keys.publicKey);
      return { keys, alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: j.x, y: j.y } };
    }
  }

  // thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK: its
  // required members in lexicographic order, no whitespace.
  async function thumbprint(jwk) {
    const members = jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
    return b64url(await crypto.subtle.digest('SHA-256', enc.encode(JSON.stringify(members))));
  }

  // signJWS signs a statement as a compact JWS. WebCrypto's ECDSA signature
  // is r||s, which is what ES256 JWS wants.
  async function signJWS(st, statement) {
    const header = { alg: st.alg, kid: st.kid, typ: 'pakta-' + statement.type + '+jws' };
    const input = b64urlText(JSON.stringify(header)) + '.' + b64urlText(JSON.stringify(statement));
    const algo = st.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
    const sig = await crypto.subtle.sign(algo, st.keys.privateKey, enc.encode(input));
    return input + '.' + b64url(sig);
  }

  // ---- HTTP ----
  async function api(method, path, opts) {
    const init = { method, cache: 'no-store', headers: {} };
    if (opts && opts.jws) {
      init.headers['Content-Type'] = 'application/jose';
      init.body = opts.jws;
    }
    const resp = await fetch(path, init);
    noteDate(resp);
    let data = null;
    const text = await resp.text();
    try { data = JSON.parse(text); } catch (e) { data = null; }
    return { status: resp.status, data, text, headers: resp.headers };
  }

  async function listTemplates(agency) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const q = new URLSearchParams({ limit: '1000' });
      if (agency) q.set('agency', agency);
      if (cursor) q.set('cursor', cursor);
      const r = await api('GET', '/v1/templates?' + q);
      if (r.status !== 200 || !r.data) throw new Error(r.data && r.data.error || 'HTTP ' + r.status);
      out.push(...r.data.templates);
      cursor = r.data.next_cursor;
      if (!cursor) break;
    }
    return out;
  }

  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  // waitOnline resolves when the browser says it is online again, or after
  // a few seconds (navigator.onLine is only a hint).
  function waitOnline(ms) {
    return new Promise((res) => {
      const done = () => { window.removeEventListener('online', done); res(); };
      window.addEventListener('online', done);
      setTimeout(done, ms);
    });
  }

  // ---- the page's state ----
  let state = null; // the stored record
  let config = { agencies: {} };
  try { config.agencies = JSON.parse(body.dataset.agencies || '{}') || {}; } catch (e) { /* none */ }

  function show(section) {
    for (const id of ['enroll', 'code', 'sign', 'receipt']) $(id).hidden = id !== section;
    const order = { enroll: 0, code: 0, sign: 1, receipt: 2 };
    const steps = ['step-enroll', 'step-sign', 'step-receipt'];
    steps.forEach((s, i) => {
      $(s).className = i === order[section] ? 'active' : i < order[section] ? 'done' : '';
    });
  }

  function personLine(p) {
    const id = p.scheme === 'nip' ? 'NIP ' + spacedNIP(p.id) : p.id;
    return p.name + ' · ' + id + ' · ' + p.agency.name;
  }

  // ---- step 1: enroll ----
  const kind = () => document.querySelector('input[name=kind]:checked').value;
  let agencyCodes = [];

  async function showEnroll() {
    show('enroll');
    $('fix').hidden = true;
    $('enroll-form').hidden = false;
    let templates = [];
    try {
      templates = await listTemplates('');
    } catch (e) {
      setStatus('s_network', 'error');
      return;
    }
    const codes = new Set(Object.keys(config.agencies));
    let all = false;
    for (const tp of templates) {
      for (const a of tp.agencies) a === '*' ? (all = true) : codes.add(a);
    }
    agencyCodes = [...codes].sort();
    const sel = $('agency');
    sel.textContent = '';
    for (const c of agencyCodes) {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = config.agencies[c] || c; // a phone's select is narrow: the name alone
      sel.appendChild(o);
    }
    if (all || agencyCodes.length === 0) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = '…';
      sel.appendChild(o);
    }
    agencyChanged();
    if (templates.length === 0) setStatus('s_no_templates', 'warn'); else clearStatus();
  }

  function agencyChanged() {
    const code = $('agency').value;
    $('agency-code-row').hidden = code !== '';
    $('agency-name-row').hidden = code !== '' && !!config.agencies[code];
  }

  // subjectFromForm reads the form into a pledge.Person, or sets a status
  // and returns null.
  function subjectFromForm() {
    const k = kind();
    const name = clean($('name').value);
    let code = $('agency').value || clean($('agency-code').value);
    const agencyName = config.agencies[code] || clean($('agency-name').value);
    let scheme, id, employment;
    if (k === 'nip') {
      id = $('pid').value.replace(/[\s.-]/g, '');
      if (!/^[0-9]{18}$/.test(id)) { setStatus('s_bad_nip', 'error'); return null; }
      // Without a roster, employment comes from the NIP (DESIGN.md): digits
      // 13-14 are an appointment month for a PNS, a contract code 21-29 for a
      // PPPK. A roster corrects it (409 with its form).
      const d = +id.slice(12, 14);
      if (d >= 1 && d <= 12) employment = 'PNS';
      else if (d >= 21 && d <= 29) employment = 'PPPK';
      else { setStatus('s_bad_nip_kind', 'error'); return null; }
      scheme = 'nip';
    } else {
      id = clean($('pid').value);
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) { setStatus('s_bad_agency_id', 'error'); return null; }
      scheme = 'agency:' + code;
      employment = 'NON_ASN';
    }
    if (!name) { setStatus('s_need_name', 'error'); return null; }
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(code) || !agencyName) { setStatus('s_need_agency', 'error'); return null; }
    return { scheme, id, name, agency: { code, name: agencyName }, employment };
  }

  async function onEnroll(ev) {
    ev.preventDefault();
    const subject = subjectFromForm();
    if (!subject) return;
    $('enroll-button').disabled = true;
    try {
      if (!state) {
        setStatus('s_making_key');
        const k = await makeKey();
        state = { v: 1, keys: k.keys, alg: k.alg, jwk: k.jwk, kid: await thumbprint(k.jwk) };
      }
      state.subject = subject;
      await save(state);
      await sendRequest();
    } finally {
      $('enroll-button').disabled = false;
    }
  }

  // sendRequest signs the enrollment of state.subject with the key alone
  // (the proof of possession) and posts it.
  async function sendRequest() {
    setStatus('s_sending');
    const zone = deviceZone() || 420;
    const enrollment = { type: 'enrollment', subject: state.subject, jwk: state.jwk, valid_from: rfc3339(now(), zone) };
    let r;
    try {
      r = await api('POST', '/v1/enrollment-requests', { jws: await signJWS(state, enrollment) });
    } catch (e) {
      setStatus('s_network', 'error');
      return;
    }
    if ((r.status === 201 || r.status === 200) && r.data && r.data.kid === state.kid) {
      state.code = r.data.code;
      state.expires = r.data.expires;
      await save(state);
      clearStatus();
      showCode();
      return;
    }
    if (r.status === 409 && r.data && r.data.detail && r.data.detail.subject) {
      // The roster lists this person in another form: show it, and sign
      // again in that form when the person agrees.
      const s = r.data.detail.subject;
      state.fix = s;
      $('fix-name').textContent = s.name;
      $('fix-detail').textContent = [s.scheme === 'nip' ? 'NIP ' + spacedNIP(s.id) : s.id, s.employment, s.position, s.unit].filter(Boolean).join(' · ');
      $('fix').hidden = false;
      $('enroll-form').hidden = true;
      setStatus('s_fix', 'warn');
      return;
    }
    setStatus('s_refused', 'error', (r.data && r.data.error) || 'HTTP ' + r.status);
  }

  async function onFix() {
    state.subject = state.fix;
    delete state.fix;
    await save(state);
    $('fix').hidden = true;
    $('enroll-form').hidden = false;
    await sendRequest();
  }

  // ---- waiting for the registrar ----
  let polling = false;

  function showCode() {
    show('code');
    $('code-value').textContent = state.code;
    $('kid8').textContent = state.kid.slice(0, 8);
    $('code-person').textContent = personLine(state.subject);
    if (!polling) poll();
  }

  async function poll() {
    polling = true;
    try {
      while (state && state.code && !state.approved) {
        let r = null;
        try { r = await api('GET', '/v1/enrollment-requests/' + encodeURIComponent(state.code)); } catch (e) { r = null; }
        const status = r && r.status === 200 && r.data && r.data.status;
        if (status === 'approved') {
          state.approved = true;
          await save(state);
          setStatus('s_approved');
          await showSign();
          return;
        }
        if (status === 'expired' || (r && r.status === 404)) {
          await forget();
          state = null;
          setStatus('s_expired', 'error');
          await showEnroll();
          setStatus('s_expired', 'error');
          return;
        }
        await sleep(r ? 2000 : 4000);
      }
    } finally {
      polling = false;
    }
  }

  async function onRestart() {
    if (!confirm(t('restart_confirm'))) return;
    await forget();
    state = null;
    clearStatus();
    await showEnroll();
  }

  // ---- step 2: sign ----
  let templates = [];

  async function showSign() {
    show('sign');
    $('sign-person').textContent = personLine(state.subject);
    $('place').value = state.place || '';
    const z = deviceZone();
    $('zone-row').hidden = z !== null;
    $('zone').value = String(state.zone || z || 420);
    try {
      templates = await listTemplates(state.subject.agency.code);
    } catch (e) {
      setStatus('s_network', 'error');
      return;
    }
    // The agency's open elections first: no deadline or one still ahead,
    // newest first. A late pledge is still logged (and reported late).
    const t0 = now();
    const open = (tp) => !tp.deadline || Date.parse(tp.deadline) > t0;
    templates.sort((a, b) => (open(b) - open(a)) || (b.index - a.index));
    if (templates.length === 0) {
      setStatus('s_no_templates', 'warn');
      return;
    }
    const sel = $('template');
    sel.textContent = '';
    for (const tp of templates) {
      const o = document.createElement('option');
      o.value = tp.id;
      o.textContent = tp.election + ' (' + tp.id + ')';
      sel.appendChild(o);
    }
    $('template-row').hidden = templates.length < 2;
    templateChanged();
  }

  function chosenTemplate() {
    return templates.find((tp) => tp.id === $('template').value) || templates[0];
  }

  function templateChanged() {
    const tp = chosenTemplate();
    if (!tp) return;
    $('election').textContent = tp.election;
    $('text').textContent = tp.text;
    $('agree').checked = false;
    $('sign-button').disabled = true;
  }

  async function onSign() {
    const tp = chosenTemplate();
    const place = clean($('place').value);
    if (!$('agree').checked) { setStatus('s_need_agree', 'error'); return; }
    if (!place) { setStatus('s_need_place', 'error'); return; }
    $('sign-button').disabled = true;
    setStatus('s_signing');
    const zone = deviceZone() || +$('zone').value;
    const signedAt = rfc3339(now(), zone);
    const pledge = {
      type: 'pledge', id: crypto.randomUUID(), signer: state.subject,
      template: { id: tp.id, sha256: tp.sha256 }, text: tp.text, election: tp.election,
      place, date: signedAt.slice(0, 10), signed_at: signedAt,
    };
    // The signed pledge is kept before it is sent: if the network is down
    // it goes out when it is back, even after the page is reopened.
    state.place = place;
    state.zone = zone;
    state.pending = { jws: await signJWS(state, pledge), template: tp.id, zone };
    await save(state);
    await submitPending();
  }

  let submitting = false;

  // submitPending sends the stored pledge until the log answers: 503 waits
  // for Retry-After, a network failure for the network.
  async function submitPending() {
    if (submitting) return;
    submitting = true;
    try {
      for (;;) {
        let r;
        try {
          r = await api('POST', '/v1/entries', { jws: state.pending.jws });
        } catch (e) {
          setStatus('s_offline', 'warn');
          await waitOnline(3000);
          continue;
        }
        if (r.status === 503) {
          const s = Math.min(Math.max(parseInt(r.headers.get('Retry-After'), 10) || 2, 1), 60);
          setStatus('s_busy', 'warn', s);
          await sleep(s * 1000);
          continue;
        }
        if (r.status === 201 || r.status === 200) {
          state.receipt = { bundle: r.text.trim(), template: state.pending.template, zone: state.pending.zone };
          delete state.pending;
          await save(state);
          clearStatus();
          showReceipt();
          return;
        }
        // Refused: the pledge will never be logged; sign again.
        delete state.pending;
        await save(state);
        setStatus('s_refused', 'error', (r.data && r.data.error) || 'HTTP ' + r.status);
        $('sign-button').disabled = !$('agree').checked;
        return;
      }
    } finally {
      submitting = false;
    }
  }

  // ---- step 3: receipt ----
  let downloadURL = null;

  function showReceipt() {
    show('receipt');
    const rc = state.receipt;
    const bundle = JSON.parse(rc.bundle);
    const entry = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(bundle.entry), (c) => c.charCodeAt(0))));
    const m = /\nindex ([0-9]+)\n/.exec(bundle.proof);
    const index = m ? m[1] : '?';
    const s = state.subject;
    $('r-name').textContent = s.name;
    $('r-id').textContent = s.scheme === 'nip' ? spacedNIP(s.id) : s.scheme + ' ' + s.id;
    $('r-index').textContent = index;
    $('r-logged').textContent = localTime(Date.parse(entry.logged_at), rc.zone);
    $('r-template').textContent = rc.template;
    $('qr').src = '/qr/' + index;
    if (downloadURL) URL.revokeObjectURL(downloadURL);
    downloadURL = URL.createObjectURL(new Blob([rc.bundle + '\n'], { type: 'application/json' }));
    $('download').href = downloadURL;
    $('download').download = index + '.pakta.json';
  }

  // ---- start ----
  async function start() {
    try {
      const r = await fetch(body.dataset.messages);
      messages = await r.json();
    } catch (e) { /* the server-rendered text stays */ }
    const saved = localStorage.getItem('pakta-lang');
    if (saved && saved !== lang && (saved === 'id' || saved === 'en')) lang = saved;
    applyLang();
    $('lang').addEventListener('click', () => {
      lang = lang === 'id' ? 'en' : 'id';
      localStorage.setItem('pakta-lang', lang);
      applyLang();
    });
    for (const r of document.querySelectorAll('input[name=kind]')) r.addEventListener('change', applyLang);
    $('agency').addEventListener('change', agencyChanged);
    $('enroll-form').addEventListener('submit', onEnroll);
    $('fix-button').addEventListener('click', onFix);
    $('restart').addEventListener('click', onRestart);
    $('template').addEventListener('change', templateChanged);
    $('agree').addEventListener('change', () => { $('sign-button').disabled = !$('agree').checked; });
    $('sign-button').addEventListener('click', onSign);

    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      setStatus('s_no_crypto', 'error');
      return;
    }
    try { state = await load() || null; } catch (e) { state = null; }
    if (!state || !state.code) {
      await showEnroll();
    } else if (!state.approved) {
      clearStatus();
      showCode();
    } else if (state.receipt) {
      clearStatus();
      showReceipt();
    } else {
      clearStatus();
      await showSign();
      if (state.pending) await submitPending();
    }
  }

  start();
})();
