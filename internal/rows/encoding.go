package rows

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrUnknownEncoding is wrapped by the error NewReaderOptions returns for
// an Options.Encoding it does not know.
var ErrUnknownEncoding = errors.New("unknown encoding")

// knownEncodings is the list of names an unknown encoding's error suggests.
const knownEncodings = "utf-8, windows-1252, iso-8859-1, utf-16le, utf-16be, utf-16, " +
	"or another IANA or WHATWG name such as iso-8859-15, macintosh or shift_jis"

// lookupEncoding resolves an Options.Encoding name. It returns a nil
// Encoding for UTF-8 (no conversion), and for "utf-16" the little-endian
// form with wide set: its byte order is taken from the input.
//
// IANA names are looked up before WHATWG labels so that iso-8859-1 and
// latin1 mean ISO-8859-1, not Windows-1252 as a browser would read them.
func lookupEncoding(name string) (enc encoding.Encoding, canonical string, wide bool, err error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "", "utf-8", "utf8":
		return nil, "utf-8", false, nil
	case "utf-16", "utf16":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16", true, nil
	}
	e, ierr := ianaindex.IANA.Encoding(n)
	if ierr != nil || e == nil {
		e, err = htmlindex.Get(n)
		if err != nil || e == encoding.Replacement {
			return nil, "", false, fmt.Errorf("%w %q: use %s", ErrUnknownEncoding, name, knownEncodings)
		}
	}
	for _, namer := range []func(encoding.Encoding) (string, error){ianaindex.MIME.Name, ianaindex.IANA.Name, htmlindex.Name} {
		if s, err := namer(e); err == nil && s != "" {
			canonical = strings.ToLower(s)
			break
		}
	}
	if canonical == "" {
		canonical = n
	}
	if canonical == "utf-8" {
		return nil, canonical, false, nil
	}
	return e, canonical, false, nil
}

// openInput sniffs the byte order mark of in and sets up r.src, r.encoding
// and r.decoded for the encoding named by name.
func (r *Reader) openInput(in io.Reader, name string) error {
	enc, canonical, wide, err := lookupEncoding(name)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(in, 64<<10)
	b, _ := br.Peek(3)
	bom := ""
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		bom = "utf-8"
		_, _ = br.Discard(3)
	case bytes.HasPrefix(b, []byte("\xff\xfe")):
		bom = "utf-16le"
		_, _ = br.Discard(2)
	case bytes.HasPrefix(b, []byte("\xfe\xff")):
		bom = "utf-16be"
		_, _ = br.Discard(2)
	}
	switch {
	case bom != "":
		// A byte order mark is stronger evidence than a name given for
		// the whole file, as for browsers.
		r.encoding = bom + " (byte order mark)"
		if name != "" && canonical != bom && !(wide && bom != "utf-8") {
			r.encoding = fmt.Sprintf("%s (byte order mark; encoding %q ignored)", bom, name)
		}
		switch bom {
		case "utf-8":
			enc = nil
		case "utf-16le":
			enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
		case "utf-16be":
			enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
		}
	case wide:
		// UTF-16 without a byte order mark: text in the Latin script has
		// a zero byte first in big-endian order.
		r.encoding = "utf-16le (no byte order mark: little-endian assumed)"
		if len(b) >= 2 && b[0] == 0 && b[1] != 0 {
			enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
			r.encoding = "utf-16be (no byte order mark: big-endian guessed from the first bytes)"
		}
	default:
		r.encoding = canonical
	}
	if enc == nil {
		r.src = br
		return nil
	}
	r.decoded = true
	if _, single := enc.(*charmap.Charmap); single && bom == "" {
		r.utf8Text = utf8Text(br)
	}
	r.lossy = !strings.HasPrefix(r.encoding, "utf-16") && !strings.HasPrefix(r.encoding, "gb18030") // both write U+FFFD itself
	r.src = bufio.NewReaderSize(transform.NewReader(br, enc.NewDecoder()), 64<<10)
	return nil
}

// sniffSize is how much of an input utf8Text looks at.
const sniffSize = 64 << 10

// utf8Text reports whether the first sniffSize bytes of br hold text
// beyond ASCII and are valid UTF-8 (a character cut by the end of the
// sniff aside). Text in a single-byte encoding seldom is: an accented
// letter followed by a letter or a space is not valid UTF-8.
func utf8Text(br *bufio.Reader) bool {
	p, _ := br.Peek(sniffSize)
	if len(p) == sniffSize {
		// A character cut by the end is left out.
		for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					p = p[:i]
				}
				break
			}
		}
	}
	ascii := true
	for _, b := range p {
		if b >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	return !ascii && utf8.Valid(p)
}

// undefined1252 reports whether b, in 0x80-0x9F, has no character in
// Windows-1252.
func undefined1252(b byte) bool {
	return b == 0x81 || b == 0x8d || b == 0x8f || b == 0x90 || b == 0x9d
}

// guessEncoding says which encoding most likely wrote s, which is not valid
// UTF-8, and how to read it, by the rule in the package comment. Only the
// bytes that are not part of a UTF-8 sequence are looked at. With only
// bytes in 0xA0-0xFF, Windows-1252 is suggested over ISO-8859-1: it reads
// them the same, and reads the rest of a file from Excel right.
func guessEncoding(s []byte) string {
	printable, control := false, false
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRune(s[i:])
		if c == utf8.RuneError && size == 1 && s[i] >= 0x80 && s[i] <= 0x9f {
			if undefined1252(s[i]) {
				control = true
			} else {
				printable = true
			}
		}
		i += size
	}
	switch {
	case printable:
		return "the file looks like Windows-1252 (Excel on Windows); run with --encoding windows-1252"
	case control:
		return "the file looks like ISO-8859-1 (Latin-1); run with --encoding iso-8859-1"
	}
	return "the file looks like Windows-1252 (Excel on Windows) or ISO-8859-1, which read these bytes the same; run with --encoding windows-1252"
}

// utf8Hint completes a message saying that s is not valid UTF-8.
func (r *Reader) utf8Hint(s []byte) string {
	if r.decoded {
		// Decoders write valid UTF-8; should one not, there is no
		// better encoding to suggest.
		return "not valid UTF-8"
	}
	return "not valid UTF-8: " + guessEncoding(s)
}

// utf16Hint returns an error when a header line, read without decoding,
// looks like UTF-16 without a byte order mark: at least a quarter of its
// bytes are zero.
func utf16Hint(line []byte) error {
	zeros := bytes.Count(line, []byte{0})
	if zeros == 0 || zeros*4 < len(line) {
		return nil
	}
	order, name := "utf-16le", "little-endian"
	if bytes.IndexByte(line, 0)%2 == 0 {
		order, name = "utf-16be", "big-endian"
	}
	return fmt.Errorf("the CSV header holds zero bytes: the file looks like UTF-16 (%s) without a byte order mark; run with --encoding %s", name, order)
}
