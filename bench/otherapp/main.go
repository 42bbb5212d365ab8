// Command otherapp plays another integration on the same HubSpot portal:
// it creates one line item per request at a steady rate, each request sent
// on its tick whether or not earlier ones have been answered (as an app
// with many workers does), so that its demand does not shrink when answers
// are slow, and a benchmark can show the importer leaving it its share.
//
//	go run ./bench/otherapp --base-url URL --token T --per-10s 95 --after 20s --for 120s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	base := flag.String("base-url", "http://127.0.0.1:8080", "API root")
	token := flag.String("token", "", "bearer token")
	per10s := flag.Int("per-10s", 95, "requests per 10 s, evenly spaced")
	after := flag.Duration("after", 0, "wait this long before starting")
	dur := flag.Duration("for", time.Minute, "how long to keep going")
	flag.Parse()
	// SIGINT or SIGTERM ends the run early; the counts are printed either way.
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-time.After(*after):
	case <-sig.Done():
	}
	ctx, cancel := context.WithTimeout(sig, *dur)
	defer cancel()
	tick := time.NewTicker(10 * time.Second / time.Duration(*per10s))
	defer tick.Stop()
	client := &http.Client{Timeout: 30 * time.Second}
	// Counts from 40 s on show what it gets once the importer has made room.
	var mu sync.Mutex
	var wg sync.WaitGroup
	sent, ok, throttled, lateSent, lateThrottled := 0, 0, 0, 0, 0
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			out, _ := json.Marshal(map[string]int{"sent": sent, "ok": ok, "throttled": throttled,
				"sent_after_40s": lateSent, "throttled_after_40s": lateThrottled})
			fmt.Println(string(out))
			return
		case <-tick.C:
		}
		late := time.Since(start) >= 40*time.Second
		body := fmt.Sprintf(`{"inputs":[{"associations":[],"objectWriteTraceId":"other-%d","properties":{"name":"other app %d"}}]}`, i, i)
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *base+"/crm/v3/objects/line_items/batch/create", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+*token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					fmt.Fprintln(os.Stderr, "otherapp:", err)
				}
				return
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			sent++
			if late {
				lateSent++
			}
			switch resp.StatusCode {
			case http.StatusCreated:
				ok++
			case http.StatusTooManyRequests:
				throttled++
				if late {
					lateThrottled++
				}
			}
		})
	}
}
