package verify

// indonesian is the Indonesian text of every format a report prints, keyed
// by its English format: formal Indonesian, as an officer of the
// supervising authority reads it; "log", "checkpoint" and field names
// (signed_at, valid_until) stay as they are, being names. TestTranslated
// fails when a format used in the package has none here, or when the verbs
// of a translation do not line up with its English (x/text's indexed verbs,
// %[2]s, reorder them).
var indonesian = map[string]string{
	// Words from a fixed set.
	"pledge":         "pakta integritas",
	"enrollment":     "pendaftaran kunci",
	"revocation":     "pencabutan kunci",
	"template":       "templat",
	"a pledge":       "pakta integritas",
	"an enrollment":  "pendaftaran kunci",
	"a revocation":   "pencabutan kunci",
	"a template":     "templat",
	"January":        "Januari",
	"February":       "Februari",
	"March":          "Maret",
	"April":          "April",
	"May":            "Mei",
	"June":           "Juni",
	"July":           "Juli",
	"August":         "Agustus",
	"September":      "September",
	"October":        "Oktober",
	"November":       "November",
	"December":       "Desember",
	"%s at %s UTC":   "%s pukul %s UTC",
	"%s and %s":      "%s dan %s",
	"%s key %s":      "kunci %s %s",
	"%s (key %s)":    "%s (kunci %s)",
	"%s at index %d": "%s pada indeks %d",

	"the entry":            "entri",
	"the key's enrollment": "pendaftaran kunci",
	"the template":         "templat",

	// The checks.
	"the file is not a well-formed bundle: %s":     "berkas ini bukan bundel yang tersusun dengan benar: %s",
	"the bundle is well-formed":                    "bundel tersusun dengan benar",
	"not checked, because an earlier check failed": "tidak diperiksa, karena pemeriksaan sebelumnya gagal",

	"%s or its proof cannot be read: %s": "%s atau buktinya tidak dapat dibaca: %s",
	"%s is proved under a different checkpoint than the entry: both must come from the same signed state of the log":                                   "%s dibuktikan di bawah checkpoint yang berbeda dari checkpoint entri: keduanya harus berasal dari keadaan log yang sama yang telah ditandatangani",
	"the log %s signed a checkpoint of %d entries with root %x…":                                                                                       "log %s menandatangani checkpoint berisi %d entri dengan akar %x…",
	"the checkpoint carries a signature by the log key %s+%08x that is not valid: the checkpoint or its signature was changed after the log signed it": "checkpoint memuat tanda tangan dengan kunci log %s+%08x yang tidak sah: checkpoint atau tanda tangannya diubah setelah ditandatangani oleh log",
	"the checkpoint is not signed by the log key %s+%08x that the policy trusts; it is signed only by %s":                                              "checkpoint tidak ditandatangani dengan kunci log %s+%08x yang dipercaya oleh kebijakan; checkpoint hanya ditandatangani oleh %s",
	"the checkpoint is not a valid statement of the log %q signed with its key: %s":                                                                    "checkpoint bukan pernyataan sah dari log %q yang ditandatangani dengan kuncinya: %s",

	"the entry is not at index %d of the log's checkpoint: %s": "entri tidak berada pada indeks %d dari checkpoint log: %s",
	"the entry is at index %d":                                 "entri berada pada indeks %d",
	"%s is not at index %d of the log's checkpoint: %s":        "%s tidak berada pada indeks %d dari checkpoint log: %s",
	"%s of that log": "%s dalam log tersebut",
	"hashing the entry with the proof gives the root %x…, but the checkpoint's root is %x…: the entry or the proof was changed, or the entry is not in this log": "perhitungan hash entri dengan buktinya menghasilkan akar %x…, sedangkan akar checkpoint adalah %x…: entri atau buktinya telah diubah, atau entri tidak ada dalam log ini",

	"the signed document in the entry (a JWS) is not well-formed: %s":                                                                                                                                    "dokumen bertanda tangan dalam entri (sebuah JWS) tidak tersusun dengan benar: %s",
	"the key's enrollment (index %d) is not a well-formed JWS, so the key it would bind is unknown: %s":                                                                                                  "pendaftaran kunci (indeks %d) bukan JWS yang tersusun dengan benar, sehingga kunci yang didaftarkannya tidak diketahui: %s",
	"the %s is signed with a key that neither the bundle's enrollment nor the policy's registrars hold, so its signature cannot be checked (%s); a retired registrar stays in the policy with \"until\"": "%s ini ditandatangani dengan kunci yang tidak dimiliki oleh pendaftaran kunci dalam bundel maupun oleh registrar dalam kebijakan, sehingga tanda tangannya tidak dapat diperiksa (%s); registrar yang sudah purnatugas tetap tercantum dalam kebijakan dengan \"until\"",
	"the %s's signature is not valid: %s":                   "tanda tangan pada %s ini tidak sah: %s",
	"the %s carries %d valid signature(s): %s":              "%s ini memuat %d tanda tangan yang sah: %s",
	"the key evidence at index %d is %s, not an enrollment": "bukti kunci pada indeks %d adalah %s, bukan pendaftaran kunci",

	"an enrollment's bundle carries another enrollment as key evidence":                                                                                                                 "bundel sebuah pendaftaran kunci memuat pendaftaran kunci lain sebagai bukti kunci",
	"registrar %s enrolled key %s for %s %s %s, and the key signed too (proof of possession)":                                                                                           "registrar %s mendaftarkan kunci %s untuk %s %s %s, dan kunci itu turut menandatangani (bukti penguasaan kunci)",
	"the bundle carries no enrollment of the revoked key %s, so nothing shows whose key it was":                                                                                         "bundel tidak memuat pendaftaran kunci yang dicabut, %s, sehingga tidak ada yang menunjukkan milik siapa kunci itu",
	"the revoked key's enrollment (index %d) does not verify under the policy: %s":                                                                                                      "pendaftaran kunci yang dicabut (indeks %d) tidak terverifikasi menurut kebijakan: %s",
	"the enrollment at index %d is for key %s, not for the revoked key %s":                                                                                                              "pendaftaran kunci pada indeks %d adalah untuk kunci %s, bukan untuk kunci yang dicabut, %s",
	"the enrollment (index %d) was logged after the revocation (index %d)":                                                                                                              "pendaftaran kunci (indeks %d) dicatat setelah pencabutannya (indeks %d)",
	"registrar %s revoked key %s, which was enrolled for %s %s %s at index %d":                                                                                                          "registrar %s mencabut kunci %s, yang didaftarkan untuk %s %s %s pada indeks %d",
	"the template is published by registrar %s, for agencies %s":                                                                                                                        "templat ini diterbitkan oleh registrar %s, untuk instansi %s",
	"%s is not a statement pakta logs":                                                                                                                                                  "%s bukan pernyataan yang dicatat oleh pakta",
	"the pledge's signed_at %s is not a date and time, so nothing shows that the key was valid when it signed":                                                                          "signed_at pakta integritas, %s, bukan tanggal dan waktu, sehingga tidak ada yang menunjukkan bahwa kunci berlaku saat penandatanganan",
	"the countersignature is not acceptable: %s":                                                                                                                                        "tanda tangan saksi tidak dapat diterima: %s",
	"the pledge is certificate-backed, but the bundle also carries an enrollment":                                                                                                       "pakta integritas ini berbasis sertifikat, tetapi bundel juga memuat pendaftaran kunci",
	"the signature was made with the key of certificate %s (serialNumber %s), issued under the trusted root %s and valid on %s":                                                         "tanda tangan dibuat dengan kunci sertifikat %s (serialNumber %s), yang diterbitkan di bawah sertifikat akar tepercaya %s dan berlaku pada %s",
	"the bundle carries no enrollment for key %s, so nothing binds it to %s %s":                                                                                                         "bundel tidak memuat pendaftaran untuk kunci %s, sehingga tidak ada yang mengikatnya pada %s %s",
	"the key's enrollment (index %d) is signed by a key that is not a registrar's in the trust policy (%s): a registrar that enrolled keys stays in the policy, retired with \"until\"": "pendaftaran kunci (indeks %d) ditandatangani dengan kunci yang bukan milik registrar dalam kebijakan kepercayaan (%s): registrar yang pernah mendaftarkan kunci tetap tercantum dalam kebijakan, dipurnatugaskan dengan \"until\"",
	"the key's enrollment (index %d) is not validly signed by a trusted registrar and the key itself: %s":                                                                               "pendaftaran kunci (indeks %d) tidak ditandatangani secara sah oleh registrar tepercaya dan oleh kunci itu sendiri: %s",
	"the key's enrollment (index %d) does not hold: %s":                                                                                                                                 "pendaftaran kunci (indeks %d) tidak memenuhi aturan: %s",
	"the signature was made with key %s, which registrar %s enrolled for %s %s %s at index %d on %s, valid %s":                                                                          "tanda tangan dibuat dengan kunci %s, yang didaftarkan oleh registrar %s untuk %s %s %s pada indeks %d tanggal %s, berlaku %s",

	"only a pledge's bundle carries a template, and this entry is %s":                                                "hanya bundel pakta integritas yang memuat templat, sedangkan entri ini adalah %s",
	"%s is not signed under a template":                                                                              "%s tidak ditandatangani berdasarkan templat",
	"the bundle carries no template, so nothing shows that the pledge's text is the official wording of template %s": "bundel tidak memuat templat, sehingga tidak ada yang menunjukkan bahwa teks pakta integritas adalah rumusan resmi templat %s",
	"the template (index %d) is not validly signed by a registrar of the trust policy: %s":                           "templat (indeks %d) tidak ditandatangani secara sah oleh registrar dalam kebijakan kepercayaan: %s",
	"the template evidence at index %d is %s, not a template":                                                        "bukti templat pada indeks %d adalah %s, bukan templat",
	"the template (index %d) does not hold: %s":                                                                      "templat (indeks %d) tidak memenuhi aturan: %s",
	"it has no deadline": "templat ini tidak memiliki batas waktu",
	"the pledge was logged before its deadline %s (on time)":                                                                  "pakta integritas dicatat sebelum batas waktunya, %s (tepat waktu)",
	"the pledge was logged after its deadline %s (late)":                                                                      "pakta integritas dicatat setelah batas waktunya, %s (terlambat)",
	"the pledge's text is the wording of template %s (sha256 %s…) for %s, which registrar %s published at index %d on %s; %s": "teks pakta integritas sama dengan rumusan templat %s (sha256 %s…) untuk %s, yang diterbitkan oleh registrar %s pada indeks %d tanggal %s; %s",

	"the %s is validly signed, but its content breaks the rules: %s":                                                                                "%s ini ditandatangani secara sah, tetapi isinya melanggar aturan: %s",
	"the pledge is well-formed: %s %s is a valid identifier, its date %s is the date of signed_at %s, and its text hashes to its template's sha256": "pakta integritas tersusun dengan benar: %s %s adalah nomor identitas yang sah, tanggalnya %s adalah tanggal dari signed_at %s, dan hash teksnya sama dengan sha256 templatnya",
	"the %s is well-formed": "%s ini tersusun dengan benar",

	"the log recorded the %s on %s": "log mencatat %s ini pada %s",
	"the pledge is %s":              "pakta integritas ini %s",
	"the log recorded the pledge on %s (%s %s); the signer dated it %s, signed at %s": "log mencatat pakta integritas ini pada %s (%s %s); penanda tangan memberinya tanggal %s, ditandatangani pukul %s",

	"the entry is %s, not a pledge":          "entri ini adalah %s, bukan pakta integritas",
	"it was signed by %s %s, not %s %s":      "pakta integritas ini ditandatangani oleh %s %s, bukan %s %s",
	"it is dated %s, not %s":                 "tanggalnya %s, bukan %s",
	"its template is %s, not %s":             "templatnya %s, bukan %s",
	"its election is %s, not %s":             "pemilihannya %s, bukan %s",
	"the claim does not hold: %s":            "klaim tidak terbukti: %s",
	"%s %s (%s) signed this pledge dated %s": "%s %s (%s) menandatangani pakta integritas ini, bertanggal %s",

	// Witnesses (witness.go).
	"the cosignature of witness %s on the checkpoint is not valid: the checkpoint or the cosignature was altered after the witness signed it, or the witness did not sign it": "tanda tangan bersama saksi %s pada checkpoint tidak sah: checkpoint atau tanda tangan bersamanya diubah setelah saksi menandatanganinya, atau saksi tidak menandatanganinya",
	"not yet witnessed: fetch it again; the checkpoint carries no cosignature of the policy's witnesses %s, and %d are needed":                                                "belum disaksikan: ambil bundel ini sekali lagi; checkpoint tidak memuat tanda tangan bersama dari saksi dalam kebijakan, yaitu %s, padahal diperlukan %d",
	"not yet witnessed by enough witnesses: fetch it again; the checkpoint carries %d valid cosignature(s) (%s), and the policy needs %d":                                     "belum disaksikan oleh cukup saksi: ambil bundel ini sekali lagi; checkpoint memuat %d tanda tangan bersama yang sah (%s), padahal kebijakan memerlukan %d",
	"witness %s had seen this entry by %s (%s %s)":                                                                                                                                       "saksi %s telah melihat entri ini paling lambat %s (pukul %s %s)",
	"witness %s had seen this entry by %s":                                                                                                                                               "saksi %s telah melihat entri ini paling lambat %s",
	"; a witness's time is also before the template's deadline: on time, independently confirmed":                                                                                        "; waktu dari saksi juga sebelum batas waktu templat: tepat waktu, dikonfirmasi secara independen",
	"; every witness's time is after the template's deadline, so \"on time\" rests on the log's clock alone":                                                                             "; waktu semua saksi jatuh setelah batas waktu templat, sehingga \"tepat waktu\" hanya bertumpu pada jam log",
	"%d of the policy's %d witnesses cosigned the checkpoint (%d needed), each consistent with what it saw of the log before: %s%s":                                                      "%d dari %d saksi dalam kebijakan menandatangani bersama checkpoint ini (diperlukan %d), masing-masing konsisten dengan apa yang telah dilihatnya dari log sebelumnya: %s%s",
	"that the witnesses are independent of the log operator and of each other: the trust policy chose them; their cosignatures show only that they saw one consistent history, and when": "bahwa para saksi independen dari operator log dan satu sama lain: kebijakan kepercayaan yang memilih mereka; tanda tangan bersama mereka hanya menunjukkan bahwa mereka melihat satu riwayat yang konsisten, dan kapan",

	// The trust rules (rules.go).
	"key %s is not a registrar's in the trust policy":                                                           "kunci %s bukan milik registrar dalam kebijakan kepercayaan",
	"registrar %s was retired at %s, before the log recorded this at %s":                                        "registrar %s purnatugas pada %s, sebelum log mencatat ini pada %s",
	"registrar %s acts for agencies %s, not for agency %s":                                                      "registrar %s bertindak untuk instansi %s, bukan untuk instansi %s",
	"the enrollment carries no registrar's signature":                                                           "pendaftaran kunci tidak memuat tanda tangan registrar",
	"the enrollment's valid_until %s had passed when the log recorded it at %s: an expired key is not enrolled": "valid_until pendaftaran kunci, %s, sudah lewat ketika log mencatatnya pada %s: kunci yang sudah kedaluwarsa tidak didaftarkan",
	"template %s is for every agency (\"*\"), but registrar %s acts only for %s":                                "templat %s berlaku untuk semua instansi (\"*\"), tetapi registrar %s hanya bertindak untuk %s",
	"template %s names agency %s, outside registrar %s's agencies %s":                                           "templat %s menyebut instansi %s, di luar instansi registrar %s, yaitu %s",
	"the enrollment at index %d is for key %s, not for the signing key %s":                                      "pendaftaran kunci pada indeks %d adalah untuk kunci %s, bukan untuk kunci penanda tangan %s",
	"key %s was enrolled at index %d, not before the pledge at index %d":                                        "kunci %s didaftarkan pada indeks %d, tidak sebelum pakta integritas pada indeks %d",
	"key %s is enrolled (index %d) for %s %s %s, and the pledge's signer differs in %s":                         "kunci %s didaftarkan (indeks %d) untuk %s %s %s, dan penanda tangan pakta integritas berbeda pada %s",
	"key %s is valid %s, which does not cover signed_at %s":                                                     "kunci %s berlaku %s, yang tidak mencakup signed_at %s",
	"key %s expired at %s, before the log recorded the pledge at %s":                                            "kunci %s kedaluwarsa pada %s, sebelum log mencatat pakta integritas pada %s",
	"from %s with no end": "sejak %s tanpa batas akhir",
	"from %s until %s":    "sejak %s sampai %s",
	"%s (%s, not %s)":     "%s (%s, bukan %s)",
	"the pledge names template %s, but the template at index %d is %s":                                                   "pakta integritas menyebut templat %s, tetapi templat pada indeks %d adalah %s",
	"template %s was logged at index %d, not before the pledge at index %d":                                              "templat %s dicatat pada indeks %d, tidak sebelum pakta integritas pada indeks %d",
	"the pledge's text (sha256 %s) is not the wording of template %s (sha256 %s)":                                        "teks pakta integritas (sha256 %s) bukan rumusan templat %s (sha256 %s)",
	"the pledge is for election %s, but template %s is for %s":                                                           "pakta integritas ini untuk pemilihan %s, tetapi templat %s untuk %s",
	"template %s is for agencies %s, not for the signer's agency %s":                                                     "templat %s berlaku untuk instansi %s, bukan untuk instansi penanda tangan, %s",
	"signed_at %s has offset %s; the policy allows %s (WIB +07:00, WITA +08:00, WIT +09:00 by default)":                  "signed_at %s memakai selisih waktu %s; kebijakan mengizinkan %s (secara bawaan WIB +07:00, WITA +08:00, WIT +09:00)",
	"signed at %s, which is after the log recorded it at %s (by more than the %d minutes allowed for clock differences)": "ditandatangani pada %s, setelah log mencatatnya pada %s (lebih dari %d menit yang diizinkan untuk selisih jam)",
	"signed at %s, more than %d days before the log recorded it at %s":                                                   "ditandatangani pada %s, lebih dari %d hari sebelum log mencatatnya pada %s",

	// Certificate roots.
	"the certificate chain is empty":                                                     "rantai sertifikat kosong",
	"the certificate chain ends in %s, which is not a root of the trust policy":          "rantai sertifikat berakhir pada %s, yang bukan akar dalam kebijakan kepercayaan",
	"the certificate root %s is trusted for agencies %s, not for the signer's agency %s": "akar sertifikat %s dipercaya untuk instansi %s, bukan untuk instansi penanda tangan, %s",

	// Rulings.
	"a ruling's bundle carries an enrollment as key evidence":                              "bundel sebuah putusan membawa pendaftaran kunci sebagai bukti kunci",
	"the ruling is signed by the supervising authority %s":                                 "putusan ini ditandatangani oleh otoritas pengawas %s",
	"a ruling is signed by key %s, which the trust policy does not list as a supervisor's": "putusan ditandatangani dengan kunci %s, yang tidak tercantum sebagai kunci pengawas dalam kebijakan kepercayaan",
	"the ruling at index %d concerns entry %d, which is not logged before it":              "putusan pada indeks %d menyangkut entri %d, yang tidak tercatat sebelumnya",

	// What a bundle does not prove.
	"that the log showed this same history to everyone: a log could fork its history for different readers; compare checkpoints with other auditors (witness cosignatures will make this automatic)": "bahwa log menunjukkan riwayat yang sama kepada semua orang: sebuah log dapat mencabangkan riwayatnya untuk pembaca yang berbeda; bandingkan checkpoint dengan auditor lain (tanda tangan bersama para saksi akan melakukannya secara otomatis)",
	"when the entry was logged, other than by the log operator's own clock: logged_at is the log's word, not an independent time":                                                                    "kapan entri dicatat, selain menurut jam milik operator log sendiri: logged_at adalah keterangan log, bukan waktu dari pihak independen",
	"that the key was not revoked between its enrollment and this entry: the log refuses such entries, but a bundle cannot prove an absence; a full audit of the log can":                            "bahwa kunci tidak dicabut di antara pendaftarannya dan entri ini: log menolak entri seperti itu, tetapi bundel tidak dapat membuktikan ketiadaan sesuatu; audit log secara penuh dapat membuktikannya",
	"that no later correction exists: a later pledge by the same signer may supersede this one":                                                                                                      "bahwa tidak ada koreksi sesudahnya: pakta integritas yang lebih baru dari penanda tangan yang sama dapat menggantikan yang ini",
	"that no later ruling of the supervising authority annulled it: a ruling is a later entry of the log, which a person's history shows":                                                            "bahwa tidak ada putusan pengawas sesudahnya yang membatalkannya: putusan adalah entri log yang lebih baru, yang tampak dalam riwayat orang tersebut",
	"who physically used the key: the enrollment shows that a registrar vouched the key belongs to the person, and that the person held it":                                                          "siapa yang secara fisik menggunakan kunci: pendaftaran kunci menunjukkan bahwa registrar menjamin kunci itu milik orang tersebut, dan bahwa orang itu memegangnya",
	"that the signer's own device made the signature: a key kept by the signing page can be used by any script of that page, so the page the log operator served could have signed with it":          "bahwa tanda tangan dibuat oleh perangkat penanda tangan sendiri: kunci yang disimpan oleh halaman penandatanganan dapat dipakai oleh skrip apa pun dari halaman itu, sehingga halaman yang disajikan operator log dapat saja menandatangani dengan kunci itu",
}

func init() {
	for en, id := range indonesian {
		translate(en, id)
	}
}
