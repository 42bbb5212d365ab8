package command

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/sample"
)

// sandbox is an in-process HubSpot emulator on a loopback port: a portal
// with the default line-item properties, deals 1001 to 1020, and the free
// tier's rate limit of 100 requests per 10 seconds. With --key-property,
// the portal also has that property, with unique values.
type sandbox struct {
	URL   string
	Token hubspot.Token
	srv   *http.Server
	done  chan error
}

func startSandbox(log *zap.Logger, keyProperty string) (*sandbox, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	tok := "sandbox-" + hex.EncodeToString(raw[:])
	// A portal of its own: a sandbox's journal is never taken for a real
	// portal's.
	portal := 90_000_000 + int(binary.BigEndian.Uint32(raw[:4])%9_000_000)
	emu := emulator.New(emulator.Config{Token: tok, RateMax: 100, RateInterval: 10 * time.Second, Seed: time.Now().UnixNano(),
		Account: emulator.Account{PortalID: portal, AccountType: "SANDBOX", TimeZone: "UTC"}})
	emu.SeedObjects("deals", sample.DealIDs()...) // the sample file's deals
	if keyProperty != "" {
		// The sandbox portal has the custom unique property a key needs.
		emu.AddProperty(emulator.Property{Name: keyProperty, Label: keyProperty, Type: "string", FieldType: "text", HasUniqueValue: true})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sb := &sandbox{
		URL:   "http://" + ln.Addr().String(),
		Token: hubspot.NewToken(tok),
		srv:   &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second},
		done:  make(chan error, 1),
	}
	go func() { sb.done <- sb.srv.Serve(ln) }()
	log.Info("sandbox HubSpot emulator listening", zap.String("url", sb.URL), zap.Int("rate_max_per_10s", 100))
	return sb, nil
}

// Close stops the emulator.
func (s *sandbox) Close() error {
	err := s.srv.Close()
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
