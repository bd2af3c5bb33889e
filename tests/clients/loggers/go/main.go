// A Go service calling DashScope with net/http (the compatible-mode and native endpoints of the
// loopback fake server) and logging its outcomes with logrus (text or JSON formatter) or zap
// (NewProduction: JSON, "ts" in epoch seconds). Run by hand through ../run_program.py
// (README.md): LOGGER=logrus-text|logrus-json|zap-json.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
)

const model = "qwen-plus"

var base = os.Getenv("FAKE_BASE")

// plan queues the outcome of the next call on the fake server's control endpoint.
func plan(status int, code string) {
	var c interface{}
	if code != "" {
		c = code
	}
	body, _ := json.Marshal([][]interface{}{{status, c}})
	r, err := http.Post(os.Getenv("FAKE_CONTROL"), "application/json", bytes.NewReader(body))
	if err != nil || r.StatusCode != 204 {
		panic(fmt.Sprintf("plan failed: %v", err))
	}
	r.Body.Close()
}

func post(url string, payload interface{}) (*http.Response, []byte) {
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func messages() []map[string]string {
	return []map[string]string{{"role": "user", "content": "用一句话介绍你自己。"}}
}

// compat returns the request id, or an error the way Go apps build one from a non-2xx answer.
func compat() (string, error) {
	resp, data := post(base+"/compatible-mode/v1/chat/completions",
		map[string]interface{}{"model": model, "messages": messages()})
	rid := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusOK {
		return rid, fmt.Errorf("chat completion failed: status %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	return rid, nil
}

type nativeResult struct {
	Status    int
	RequestID string `json:"request_id"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

func native() nativeResult {
	resp, data := post(base+"/api/v1/services/aigc/text-generation/generation",
		map[string]interface{}{"model": model, "input": map[string]interface{}{"messages": messages()}})
	var out nativeResult
	_ = json.Unmarshal(data, &out)
	out.Status = resp.StatusCode
	return out
}

type logger interface {
	ok(rid string)
	withError(err error, rid string)
	fields(r nativeResult)
}

type logrusLog struct{ l *logrus.Logger }

func (g logrusLog) ok(rid string) {
	g.l.WithFields(logrus.Fields{"request_id": rid, "model": model}).Info("chat ok")
}
func (g logrusLog) withError(err error, rid string) {
	e := g.l.WithError(err).WithField("model", model)
	if rid != "" {
		e = e.WithField("request_id", rid)
	}
	e.Error("qwen call failed")
}
func (g logrusLog) fields(r nativeResult) {
	g.l.WithFields(logrus.Fields{
		"status_code": r.Status, "code": r.Code, "message": r.Message,
		"request_id": r.RequestID, "model": model,
	}).Error("qwen call failed")
}

type zapLog struct{ l *zap.Logger }

func (g zapLog) ok(rid string) {
	g.l.Info("chat ok", zap.String("request_id", rid), zap.String("model", model))
}
func (g zapLog) withError(err error, rid string) {
	fs := []zap.Field{zap.Error(err), zap.String("model", model)}
	if rid != "" {
		fs = append(fs, zap.String("request_id", rid))
	}
	g.l.Error("qwen call failed", fs...)
}
func (g zapLog) fields(r nativeResult) {
	g.l.Error("qwen call failed", zap.Int("status_code", r.Status), zap.String("code", r.Code),
		zap.String("message", r.Message), zap.String("request_id", r.RequestID), zap.String("model", model))
}

func main() {
	var log logger
	switch os.Getenv("LOGGER") {
	case "zap-json":
		z, _ := zap.NewProduction()
		defer z.Sync()
		log = zapLog{z}
	default:
		l := logrus.New()
		l.SetOutput(os.Stdout)
		if os.Getenv("LOGGER") == "logrus-json" {
			l.SetFormatter(&logrus.JSONFormatter{})
		} else {
			l.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
		}
		log = logrusLog{l}
	}
	plan(200, "") // 1 a compat success
	rid, _ := compat()
	log.ok(rid)
	plan(429, "Throttling.RateQuota") // 2 a 429: the error holds the body, no id beside
	if _, err := compat(); err != nil {
		log.withError(err, "")
	}
	plan(401, "InvalidApiKey") // 3 native fields
	log.fields(native())
	plan(500, "InternalError") // 4 a 500 with its id beside
	if rid, err := compat(); err != nil {
		log.withError(err, rid)
	}
	plan(200, "") // 5 a native success
	log.ok(native().RequestID)
	time.Sleep(50 * time.Millisecond)
	plan(400, "DataInspectionFailed") // 6
	if rid, err := compat(); err != nil {
		log.withError(err, rid)
	}
	plan(429, "Throttling.AllocationQuota") // 7
	log.fields(native())
	plan(200, "") // 8
	log.ok(native().RequestID)
}
