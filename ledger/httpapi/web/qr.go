package web

import (
	"bytes"
	"fmt"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrSVG draws a QR code of text as an SVG: one path of unit squares, with
// a quiet zone of four modules, scaling sharply to any size.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("web: qr code: %w", err)
	}
	var m matrixWriter
	if err := q.Save(&m); err != nil {
		return nil, fmt.Errorf("web: qr code: %w", err)
	}
	const quiet = 4
	n := m.mat.Width() + 2*quiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	m.mat.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		if v.IsSet() {
			fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
		}
	})
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// matrixWriter keeps the code's matrix: the library's Writer interface,
// without its image writers.
type matrixWriter struct{ mat qrcode.Matrix }

func (m *matrixWriter) Write(mat qrcode.Matrix) error { m.mat = mat; return nil }
func (m *matrixWriter) Close() error                  { return nil }
