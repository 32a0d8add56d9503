package render

import (
	"fmt"

	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// labels is this package's catalog: the words of the sheet around the
// report's reasons (which verify translates). Keyed by the English, as
// verify's catalog is; TestLabelsTranslated fails when a label printed
// through printer.t has no Indonesian here.
var labels = catalog.NewBuilder(catalog.Fallback(language.English))

var indonesian = map[string]string{
	"Pledge verification report": "Laporan Verifikasi Pakta Integritas",
	"The log's checkpoint is not cosigned by enough of the independent witnesses the trust policy names, or a cosignature is false. Nothing shows that the log showed this same history to everyone, and every time in the bundle rests on the log operator's clock alone: fetch the bundle again once the witnesses have cosigned.": "Checkpoint log tidak ditandatangani bersama oleh cukup saksi independen yang disebut dalam kebijakan kepercayaan, atau ada tanda tangan bersama yang palsu. Tidak ada yang menunjukkan bahwa log memperlihatkan riwayat yang sama kepada semua orang, dan setiap waktu dalam bundel hanya bertumpu pada jam operator log: ambil bundel ini lagi setelah para saksi menandatanganinya bersama.",
	"Checks":                            "Pemeriksaan",
	"What this means for the dispute":   "Artinya bagi sengketa",
	"Facts the checks established":      "Fakta yang dibuktikan oleh pemeriksaan",
	"Text of the pledge, as signed":     "Teks pakta integritas, sebagaimana ditandatangani",
	"History of the signer's keys":      "Riwayat kunci penanda tangan",
	"What this bundle does not prove":   "Yang tidak dibuktikan oleh bundel ini",
	"Bundle":                            "Bundel",
	"Examined by":                       "Diperiksa oleh",
	"Name":                              "Nama",
	"Position":                          "Jabatan",
	"Date":                              "Tanggal",
	"Signature":                         "Tanda tangan",
	"VERDICT: PASS, every check passed": "HASIL: LULUS, semua pemeriksaan lulus",
	"VERDICT: FAIL, first failed check: [%s]": "HASIL: GAGAL, pemeriksaan pertama yang gagal: [%s]",
	"PASS":        "LULUS",
	"FAIL":        "GAGAL",
	"NOT CHECKED": "TIDAK DIPERIKSA",
	"This check was not made, because an earlier one failed: the bundle establishes nothing about it.": "Pemeriksaan ini tidak dilakukan karena pemeriksaan sebelumnya gagal: bundel tidak membuktikan apa pun mengenai hal ini.",
	"log %s, entry %d of %d":                                         "log %s, entri nomor %d dari %d",
	"Checkpoint: log %s, %d entries, root %s":                        "Checkpoint: log %s, %d entri, akar %s",
	"The checks failed: the report establishes no entry of any log.": "Pemeriksaan gagal: laporan ini tidak membuktikan entri apa pun dari log mana pun.",
	"key enrolled (index %d)":                                        "kunci didaftarkan (indeks %d)",
	"key %s, by %s, valid %s":                                        "kunci %s, oleh %s, berlaku %s",
	"%s (index %d)":                                                  "%s (indeks %d)",
	"Rows marked * come from the log's history of the person, not from this bundle: they are outside what the bundle proves.":                                          "Baris bertanda * berasal dari riwayat orang tersebut di log, bukan dari bundel ini: baris itu berada di luar apa yang dibuktikan oleh bundel.",
	"The bundle shows the enrollment of the key that signed; other keys of the person, and their revocations, are in the log's history of the person (pakta history).": "Bundel menunjukkan pendaftaran kunci yang menandatangani; kunci lain milik orang tersebut, beserta pencabutannya, ada dalam riwayat orang tersebut di log (pakta history).",
	"pledge":                               "pakta integritas",
	"key enrolled":                         "kunci didaftarkan",
	"key revoked":                          "kunci dicabut",
	"template published":                   "templat diterbitkan",
	"ruling of the supervising authority":  "putusan otoritas pengawas",
	"The signer's history in the log":      "Riwayat penanda tangan di log",
	"from %s with no end":                  "sejak %s tanpa batas akhir",
	"from %s until %s":                     "sejak %s sampai %s",
	"%s (%s)":                              "%s (%s)",
	"Entry":                                "Entri",
	"Logged by the log at":                 "Dicatat oleh log pada",
	"Signer":                               "Penanda tangan",
	"Identifier":                           "Nomor identitas",
	"Unit":                                 "Unit kerja",
	"Agency":                               "Instansi",
	"%s (code %s)":                         "%s (kode %s)",
	"Employment":                           "Status kepegawaian",
	"Election":                             "Pemilihan",
	"Place and date":                       "Tempat dan tanggal",
	"%s, %s":                               "%s pukul %s", // a date and its clock
	"Signed at, by the signer's own clock": "Ditandatangani pada, menurut jam penanda tangan",
	"%s, index %d":                         "%s, indeks %d",
	"Template":                             "Templat",
	"%s, published by %s at %s, index %d":  "%s, diterbitkan oleh %s pada %s, indeks %d",
	"Deadline":                             "Batas waktu",
	"none":                                 "tidak ada",
	"On time or late":                      "Tepat waktu atau terlambat",
	"ON TIME: the log recorded the pledge before the deadline": "TEPAT WAKTU: log mencatat pakta integritas sebelum batas waktu",
	"LATE: the log recorded the pledge after the deadline":     "TERLAMBAT: log mencatat pakta integritas setelah batas waktu",
	"Signing key":  "Kunci penanda tangan",
	"Key enrolled": "Kunci didaftarkan",
	"by %s at %s, index %d; the key itself signed the enrollment too": "oleh %s pada %s, indeks %d; kunci itu sendiri turut menandatangani pendaftarannya",
	"Key valid":                              "Masa berlaku kunci",
	"%s, certificate-backed (no enrollment)": "%s, berbasis sertifikat (tanpa pendaftaran kunci)",
	"The file is damaged or is not a pakta bundle. Nothing in it can be relied on: ask the log for the bundle of the entry again.":                                                                                     "Berkas ini rusak atau bukan bundel pakta. Tidak ada isinya yang dapat dijadikan pegangan: mintalah kembali bundel entri tersebut dari log.",
	"The bundle is not vouched for by the log that the trust policy names, or its signed state of the log was altered. It is no evidence that anything was logged: fetch the bundle from the log itself.":              "Bundel ini tidak dijamin oleh log yang disebut dalam kebijakan kepercayaan, atau keadaan log yang ditandatangani di dalamnya telah diubah. Bundel ini bukan bukti bahwa sesuatu telah dicatat: ambillah bundel langsung dari log.",
	"The entry, its key's enrollment or its template is not in the log as the checkpoint fixes it: it was altered, or it does not come from this log. The bundle does not show that this pledge was logged.":           "Entri, pendaftaran kuncinya, atau templatnya tidak ada dalam log sebagaimana ditetapkan oleh checkpoint: isinya telah diubah, atau tidak berasal dari log ini. Bundel tidak menunjukkan bahwa pakta integritas ini telah dicatat.",
	"The signature does not verify: the document was changed after it was signed, or it was signed with another key than the one named. It does not show that anyone signed this text.":                                "Tanda tangan tidak dapat diverifikasi: dokumen diubah setelah ditandatangani, atau ditandatangani dengan kunci lain daripada yang disebut. Bundel tidak menunjukkan bahwa siapa pun menandatangani teks ini.",
	"The key that signed is not shown to belong to the person named, or was not valid then. If the person says \"that is not my signature\", this bundle does not contradict them.":                                    "Tidak terbukti bahwa kunci yang menandatangani adalah milik orang yang disebut, atau kunci itu tidak berlaku pada saat itu. Jika orang tersebut menyatakan \"itu bukan tanda tangan saya\", bundel ini tidak membantahnya.",
	"The signed text is not shown to be the official wording published before the pledge for this election and agency. The bundle does not show that the person signed the official pledge.":                           "Tidak terbukti bahwa teks yang ditandatangani adalah rumusan resmi yang diterbitkan sebelum pakta integritas untuk pemilihan dan instansi ini. Bundel tidak menunjukkan bahwa orang tersebut menandatangani pakta integritas resmi.",
	"The signed document breaks the rules of a pledge (identifier, date, text or its hash). It cannot be relied on as a pledge, even though it was signed.":                                                            "Dokumen yang ditandatangani melanggar aturan pakta integritas (nomor identitas, tanggal, teks, atau hash-nya). Dokumen ini tidak dapat dijadikan pegangan sebagai pakta integritas, walaupun telah ditandatangani.",
	"The time the signer wrote on the pledge does not agree with when the log recorded it. The signer's own time cannot be relied on; only the log's time (logged_at) can, and it is not shown here to be consistent.": "Waktu yang dituliskan penanda tangan pada pakta integritas tidak sesuai dengan waktu log mencatatnya. Waktu menurut penanda tangan tidak dapat dijadikan pegangan; hanya waktu log (logged_at) yang dapat, dan di sini keduanya tidak terbukti konsisten.",
	"The bundle may be genuine, but it does not show what was claimed (the person, the date, the template or the election): it is evidence of another pledge, not of this claim.":                                      "Bundel ini mungkin asli, tetapi tidak menunjukkan apa yang diklaim (orangnya, tanggalnya, templatnya, atau pemilihannya): bundel ini bukti pakta integritas yang lain, bukan bukti klaim ini.",
	"This check failed: the bundle does not establish what it checks (see its line above).":                                                                                                                            "Pemeriksaan ini gagal: bundel tidak membuktikan hal yang diperiksanya (lihat barisnya di atas).",
	"History of a person in the log": "Riwayat seseorang di log",
	"log %s, read on %s":             "log %s, dibaca pada %s",
	"Entries in log order":           "Entri menurut urutan log",
	"%d entries; %d of them do not verify under the trust policy":          "%d entri; %d di antaranya tidak terverifikasi dengan kebijakan kepercayaan",
	"%d entries, each verified with its own bundle under the trust policy": "%d entri, masing-masing terverifikasi dengan bundelnya sendiri berdasarkan kebijakan kepercayaan",
	"Each row is an entry of the log about this person, in log order, at the time the log recorded it (logged_at). The list is what the log answered when it was read: a bundle proves each row, but nothing here proves that the log holds no other entry about the person; a full audit of the log does.": "Setiap baris adalah entri log mengenai orang ini, menurut urutan log, pada waktu log mencatatnya (logged_at). Daftar ini adalah jawaban log ketika dibaca: bundel membuktikan setiap baris, tetapi tidak ada di sini yang membuktikan bahwa log tidak memuat entri lain mengenai orang tersebut; audit log secara penuh dapat membuktikannya.",
	"Claim":                          "Klaim",
	"Page %d of %s":                  "Halaman %d dari %s",
	"Scan to fetch the bundle again": "Pindai untuk mengambil bundel kembali",
}

func init() {
	for en, id := range indonesian {
		if err := labels.SetString(language.Indonesian, en, id); err != nil {
			panic(fmt.Sprintf("render: translation of %q: %v", en, err))
		}
	}
}
