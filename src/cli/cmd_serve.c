/* aaren serve: options, then the server in src/serve/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#ifdef AAREN_HAVE_SERVER
#include "serve/serve.h"
#endif

int cmd_serve(int argc, char **argv);

static const char *serve_help =
    "usage: aaren serve --model M.safetensors [--host 127.0.0.1] [--port 8080] [--state-dir DIR]\n"
    "                   [--max-streams N] [--token-file FILE] [options]\n\n"
    "Serves streams of one model over HTTP/1.1 with JSON bodies; the task is read from the\n"
    "checkpoint (GET /v1/health names it and its inputs):\n"
    "  POST   /v1/streams              create a stream: 201 {\"id\": \"<16 hex digits>\"}; no body, or {}\n"
    "                                  (a decision model: {\"target_return\": R}, default in /v1/health)\n"
    "  POST   /v1/streams/<id>/step    {\"inputs\": [[...], ...]}, one or more rows; the answer has one\n"
    "                                  entry per row and \"position\" (rows so far):\n"
    "      encoder (aaren init/train): rows of d_model numbers; \"outputs\": the encoder's rows (what\n"
    "        'aaren encode --mode stream' gives for the same rows)\n"
    "      classifier (aaren classify --save): rows of one number per dimension, one row per time\n"
    "        step; \"probabilities\": the class probabilities of the case so far, \"predicted\": labels\n"
    "      event model (aaren events --save): rows [time, mark] ([time] when unmarked), times not\n"
    "        decreasing; \"predictions\": the next event's mean, median, q10, q90, most likely mark,\n"
    "        its probability and every mark's (\"mark_probs\")\n"
    "      forecaster (aaren forecast --save): rows of the training file's numeric columns and\n"
    "        \"dates\": one increasing date per row; \"forecasts\": null until the stream holds\n"
    "        seq_len rows, then the next pred_len rows' dates and values in the file's units (what\n"
    "        'aaren forecast --model --input' gives for the same rows)\n"
    "      decision model (aaren rl train --save): a stream is one episode of at most 1000 steps;\n"
    "        rows [reward, observation...]: the reward received for the previous row's action (not\n"
    "        used on the first row) and the new observation; \"actions\": the action for each row,\n"
    "        \"returns_to_go\": the target less the rewards so far, which it was conditioned on\n"
    "        (what 'aaren rl act' gives for the same rows); \"position\" counts steps\n"
    "  GET    /v1/streams/<id>         position and state bytes\n"
    "  DELETE /v1/streams/<id>         end the stream\n"
    "  GET    /v1/health               the task, its inputs, model and stream counts (no token needed)\n"
    "  GET    /v1/metrics              Prometheus text: requests, errors, streams, steps, step\n"
    "                                  latency histogram, steps/s, resident memory\n"
    "Steps of different streams that arrive together run as one batched step. Errors are JSON\n"
    "{\"error\": ..., \"status\": ...}: 400 malformed JSON, wrong width, non-finite numbers, a bad mark\n"
    "or date, or a time or date before the stream's last (no row of it applied), 401\n"
    "missing or wrong token, 404 unknown stream or endpoint, 405 wrong method, 409 Transformer\n"
    "cache full (a decision model's step takes 3 tokens) or episode at 1000 steps, 413 body too large, 429 over capacity, 503 state folder unwritable or stopping.\n\n"
    "  --model F          checkpoint: encoder, classifier, event model, forecaster or decision model\n"
    "  --host A           numeric IPv4 or IPv6 address to listen on (default 127.0.0.1, this machine only)\n"
    "  --port N           TCP port (default 8080; 0 picks a free one, printed at start)\n"
    "  --state-dir DIR    durable streams: a step is answered only after its state is synced to\n"
    "                     DIR (write-ahead log, group commit), and a restarted server continues\n"
    "                     every answered step; without it streams end with the server\n"
    "  --max-streams N    streams held in memory (default 1024); idle ones are spilled to disk and\n"
    "                     loaded back when stepped\n"
    "  --max-total N      streams in all, in memory and on disk (default 100000); more is 429\n"
    "  --token-file FILE  require 'Authorization: Bearer SECRET' where SECRET is the file's one line\n"
    "                     (printable ASCII, no spaces; compared in constant time); the file is read\n"
    "                     once at start, so the secret never appears in the process list\n"
    "  --token SECRET     the same with the secret on the command line, which other users of the\n"
    "                     machine can read (ps, /proc); prefer --token-file\n"
    "  --max-body N       bytes of one request body (default 1048576); more is 413\n"
    "  --max-rows N       input rows of one step request (default 1024)\n"
    "  --max-batch N      rows of one batched step (default 512)\n"
    "  --batch-wait-us N  how long the worker waits for more requests before a step when few are\n"
    "                     waiting (default 200 microseconds)\n"
    "  --max-queue N      requests waiting for the worker (default 16384); more is 429\n"
    "  --max-connections N  open connections (default 16384)\n"
    "  --max-tokens N     Transformer: KV-cache capacity per stream in tokens (default 1024)\n"
    "  --wal-limit-mb N   compact the write-ahead log when it passes N MiB (default 64)\n"
    "  --step-threads N   threads of the batched steps (default 1: the HTTP threads keep the cores; an\n"
    "                     idle step thread spins between the short parallel parts of a step)\n"
    "  --http-threads N   HTTP polling threads, each reading, parsing and answering its share of the\n"
    "                     connections (default 2)\n"
    "  --connection-memory N  bytes of memory per open connection for its request headers and\n"
    "                     buffers (default 8192; bodies are read through it in pieces; headers\n"
    "                     that do not fit are answered 431)\n"
    "  --quiet            print only the listening address\n"
    "Stops on SIGINT or SIGTERM after answering what it holds.\n";

int cmd_serve(int argc, char **argv) {
    static const char *const valued[] = {"model", "host", "port", "state-dir", "max-streams", "max-total", "token", "token-file",
                                         "max-body", "max-rows", "max-batch", "batch-wait-us", "max-queue",
                                         "max-connections", "max-tokens", "wal-limit-mb", "step-threads", "http-threads",
                                         "connection-memory", NULL};
    static const char *const flags[] = {"quiet", NULL};
    cli_args a;
    const int prc = cli_parse(&a, "serve", argc, argv, valued, flags);
    if (prc) {
        if (prc > 0) fputs(serve_help, stdout);
        return prc > 0 ? 0 : 2;
    }
#ifndef AAREN_HAVE_SERVER
    return cli_fail("serve", "this build has no server (libmicrohttpd and cJSON were not found when it was "
                             "configured; Debian: libmicrohttpd-dev libcjson-dev)");
#else
    aaren_serve_options o;
    aaren_serve_defaults(&o);
    const char *mp = cli_need(&a, "model");
    if (!mp) return 2;
    o.model_path = mp;
    if (cli_get(&a, "host")) o.host = cli_get(&a, "host");
    o.state_dir = cli_get(&a, "state-dir");
    o.token = cli_get(&a, "token");
    if (o.token && !*o.token) return cli_fail("serve", "--token must not be empty"), 2;
    if (o.token && cli_get(&a, "token-file")) return cli_fail("serve", "give --token or --token-file, not both"), 2;
    o.quiet = cli_flag(&a, "quiet");
    long port, ms, mt, mb, mr, mbat, wait, mq, mc, mtok, wal, sth, hth, cmem;
    if (cli_int(&a, "port", o.port, 0, 65535, &port) || cli_int(&a, "max-streams", o.max_streams, 1, 1000000, &ms) ||
        cli_int(&a, "max-total", o.max_total, 1, 100000000, &mt) ||
        cli_int(&a, "max-body", o.max_body, 64, 1L << 30, &mb) || cli_int(&a, "max-rows", o.max_rows, 1, 1000000, &mr) ||
        cli_int(&a, "max-batch", o.max_batch, 1, 1000000, &mbat) ||
        cli_int(&a, "batch-wait-us", o.batch_wait_us, 0, 1000000, &wait) ||
        cli_int(&a, "max-queue", o.max_queue, 1, 10000000, &mq) ||
        cli_int(&a, "max-connections", o.max_connections, 1, 1000000, &mc) ||
        cli_int(&a, "max-tokens", o.max_tokens, 1, 100000000, &mtok) ||
        cli_int(&a, "wal-limit-mb", o.wal_limit >> 20, 1, 1 << 20, &wal) ||
        cli_int(&a, "step-threads", o.step_threads, 1, 1024, &sth) ||
        cli_int(&a, "http-threads", o.http_threads, 1, 64, &hth) ||
        cli_int(&a, "connection-memory", o.conn_memory, 4096, 1L << 24, &cmem))
        return 2;
    o.port = (int)port;
    o.max_streams = (int)ms;
    o.max_total = mt;
    o.max_body = mb;
    o.max_rows = (int)mr;
    o.max_batch = (int)mbat;
    o.batch_wait_us = (int)wait;
    o.max_queue = (int)mq;
    o.max_connections = (int)mc;
    o.max_tokens = mtok;
    o.wal_limit = wal << 20;
    o.step_threads = (int)sth;
    o.http_threads = (int)hth;
    o.conn_memory = cmem;
    static char secret[4096];   /* the --token-file secret, wiped before returning */
    char err[1024];
    if (cli_get(&a, "token-file")) {
        if (aaren_serve_read_token(cli_get(&a, "token-file"), secret, sizeof secret, err, sizeof err))
            return cli_fail("serve", "%s", err);
        o.token = secret;
    }
    const int rc = aaren_serve_run(&o, err, sizeof err);
    memset(secret, 0, sizeof secret);
    if (rc) return cli_fail("serve", "%s", err);
    return 0;
#endif
}
