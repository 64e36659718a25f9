import http from "node:http";
import { z } from "zod";
import type { Autoscaler } from "./controller";

/** The body of POST /replicas (the scale-api runbook). */
export const ReplicasSchema = z.object({ replicas: z.number().int() }).strict();

const MAX_BODY_BYTES = 1 << 20;

/**
 * The autoscaler's HTTP API: POST /alerts (Alertmanager webhook v4), GET and POST /replicas
 * (status; on-call's override), GET /health and GET /metrics. Plain node:http: five routes do not
 * need a framework. Bad input is a 400 with a stable id; nothing a client sends yields a 5xx.
 */
export function autoscalerServer(a: Autoscaler): http.Server {
  return http.createServer((req, res) => {
    const reply = (status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const readJson = (onBody: (body: unknown) => Promise<void>, errorId: string) => {
      let raw = "";
      req.on("data", (c: Buffer) => {
        raw += c.toString();
        if (raw.length > MAX_BODY_BYTES) req.destroy();
      });
      req.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          return reply(400, { error: errorId, message: "body is not JSON" });
        }
        onBody(body).catch((err: Error) => reply(400, { error: errorId, message: err.message.slice(0, 500) }));
      });
    };
    const route = `${req.method} ${req.url}`;
    if (route === "POST /alerts")
      readJson(async (body) => {
        a.onWebhook(body);
        reply(200, { status: "accepted" });
      }, "invalid_notification");
    else if (route === "POST /replicas")
      readJson(async (body) => {
        const { replicas } = ReplicasSchema.parse(body);
        const result = await a.scaleTo(replicas);
        if (result) reply(200, result);
        else reply(409, { error: "scale_failed", message: "busy with another step, or the step failed: see the log" });
      }, "invalid_replicas");
    else if (route === "GET /replicas")
      void a.status().then(
        (s) => reply(200, s),
        (err: Error) => reply(503, { error: "actuator_unavailable", message: err.message.slice(0, 500) }),
      );
    else if (route === "GET /health") reply(200, { status: "ok", signal: a.signal });
    else if (route === "GET /metrics")
      void a.registry.metrics().then((text) => reply(200, text, a.registry.contentType));
    else reply(404, { error: "not_found", message: `${route}: no such route` });
  });
}
