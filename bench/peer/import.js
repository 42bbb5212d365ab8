#!/usr/bin/env node
// Benchmark peer: loads a line item CSV into HubSpot with HubSpot's official
// Node.js client (@hubspot/api-client), written the way a typical user would
// following the client's README. It exists only to be measured side by side
// with the Go importer; see README.md beside this file.
//
//   node import.js --base-url http://127.0.0.1:PORT --token TOKEN --input rows.csv
//                  [--concurrency 4] [--out stats.json] [--ids ids.csv]
//
// Exit status: 0 when the run finished (even if rows failed), 1 on a fatal
// error (bad arguments, unreadable or malformed CSV).
'use strict';

const fs = require('fs');
const { parseArgs } = require('util');
const { parse } = require('csv-parse');
const hubspot = require('@hubspot/api-client');

const BATCH_SIZE = 100; // HubSpot's limit for batch/create inputs
const CLIENT_VERSION = require('@hubspot/api-client/package.json').version;

// Row mapping (the same as the Go importer's samples/mapping.yaml).
const COLUMNS = [
  ['hs_sku', 'SKU'],
  ['name', 'Product'],
  ['description', 'Description'],
  ['quantity', 'Qty'],
  ['price', 'Unit Price'],
  ['hs_discount_percentage', 'Discount %'],
  ['hs_line_item_currency_code', 'Currency'],
];
const BILLING = { Monthly: 'monthly', Quarterly: 'quarterly', Yearly: 'annually' };
const LINE_ITEM_TO_DEAL = 20; // HUBSPOT_DEFINED line item -> deal (hubspot.AssociationTypes.lineItemToDeal)

function usage(msg) {
  if (msg) process.stderr.write(`import.js: ${msg}\n`);
  process.stderr.write(
    'usage: node import.js --base-url URL --token TOKEN --input FILE.csv ' +
      '[--concurrency N] [--out STATS.json] [--ids IDS.csv]\n',
  );
  process.exit(1);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'base-url': { type: 'string' },
        token: { type: 'string' },
        input: { type: 'string' },
        concurrency: { type: 'string', default: '4' },
        out: { type: 'string' },
        ids: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.help) usage();
  for (const name of ['base-url', 'token', 'input']) {
    if (!values[name]) usage(`--${name} is required`);
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) usage('--concurrency must be a positive integer');
  return {
    // The client builds request URLs as basePath + '/crm/v3/...', so a
    // trailing slash would double up.
    baseUrl: values['base-url'].replace(/\/+$/, ''),
    token: values.token,
    input: values.input,
    concurrency,
    out: values.out,
    ids: values.ids,
  };
}

// MM/DD/YYYY -> YYYY-MM-DD. Anything else is sent as it is (HubSpot rejects it).
function isoDate(s) {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  return m ? `${m[3]}-${m[1].padStart(2, '0')}-${m[2].padStart(2, '0')}` : s;
}

function toInput(record, row) {
  const properties = {};
  for (const [prop, col] of COLUMNS) {
    const v = record[col];
    if (v !== undefined && v !== '') properties[prop] = String(v);
  }
  if (record.Billing) properties.recurringbillingfrequency = BILLING[record.Billing] ?? record.Billing;
  if (record.Start) properties.hs_recurring_billing_start_date = isoDate(record.Start);
  const dealId = record['Deal ID'];
  const associations = dealId
    ? [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: LINE_ITEM_TO_DEAL }] }]
    : [];
  return { properties, associations, objectWriteTraceId: String(row) };
}

// The code a 207 error is counted under: the first detail code, else the
// `error` of the first embedded property validation, else the category
// (the same order as the Go importer's hubspot.StandardError.Code).
function errorCode(e) {
  for (const d of e.errors || []) if (d && d.code) return d.code;
  const msg = e.message || '';
  const i = msg.indexOf('[');
  if (msg.startsWith('Property values were not valid') && i >= 0) {
    try {
      const pv = JSON.parse(msg.slice(i));
      if (pv[0] && pv[0].error) return pv[0].error;
    } catch (_) {
      /* not JSON: fall through */
    }
  }
  return e.category || 'UNKNOWN';
}

async function main() {
  const opt = options();

  // Client settings, both taken from the installed client's README:
  //
  // * limiterOptions: hubspot.DEFAULT_LIMITER_OPTIONS
  //   ({minTime: 1000/9, maxConcurrent: 6, id: 'hubspot-client-limiter'}).
  //   README, "Rate limiting": "Bottleneck is used for rate limiting. To
  //   turn on/off rate limiting use `limiterOptions` option on Client
  //   instance creation." Its example passes `limiterOptions:
  //   DEFAULT_LIMITER_OPTIONS` ("Default settings for the limiter are: ...").
  //   The client only installs the limiter when limiterOptions is given
  //   (lib/src/client.js getDecorators), so it is passed explicitly.
  //
  // * numberOfApiCallRetries: 6, the README's maximum. README, "Retry
  //   mechanism": "It's possible to turn on retry for failed requests with
  //   statuses 429 or 5xx. ... `numberOfApiCallRetries` can be set to a
  //   number from 0 - 6. ... if any API Call receives ISE5xx this call will be
  //   retried after a delay 200 * retryNumber ms and if 429 (Rate limit is
  //   exceeded) is returned for "TEN_SECONDLY_ROLLING" the call will be
  //   retried after a delay 10 sec." (lib/src/services/decorators/
  //   RetryDecorator.js: the delay is 10 s * attempt number, and N means N
  //   attempts in all, so 6 gives at most 5 retries.)
  //
  // * basePath: the README's "To change the base path" option; the client
  //   sends basePath + '/crm/v3/objects/line_items/batch/create'.
  //
  // No retry, back-off or rate logic of our own: a call the client gives up
  // on is counted as failed. The only thing this script adds is the
  // --concurrency cap on batches in flight, which bounds memory.
  const hubspotClient = new hubspot.Client({
    accessToken: opt.token,
    basePath: opt.baseUrl,
    numberOfApiCallRetries: 6,
    limiterOptions: hubspot.DEFAULT_LIMITER_OPTIONS,
  });
  const batchApi = hubspotClient.crm.lineItems.batchApi;

  // Observation only: a per-call middleware (the generated client's
  // documented `_options.middleware`, PromiseConfigurationOptions) sees every
  // HTTP response, including each 429 that the retry decorator then retries.
  // It changes nothing in the request: with the default merge strategy
  // ('replace') the call runs exactly the middleware a plain call runs
  // (none) plus this observer.
  const httpStatuses = {};
  const observe = {
    pre: (ctx) => Promise.resolve(ctx),
    post: (rsp) => {
      httpStatuses[rsp.httpStatusCode] = (httpStatuses[rsp.httpStatusCode] || 0) + 1;
      return Promise.resolve(rsp);
    },
  };

  const idsFd = opt.ids ? fs.openSync(opt.ids, 'w') : null;
  const stats = { rows: 0, created: 0, failed: 0, results: 0, batches: 0, errors: {} };
  const addError = (code, n) => {
    stats.errors[code] = (stats.errors[code] || 0) + n;
  };

  async function sendBatch(inputs) {
    stats.batches++;
    let res;
    try {
      res = await batchApi.create({ inputs }, { middleware: [observe] });
    } catch (err) {
      // The client's ApiException has the HTTP status in .code; a network
      // error has a string code (ECONNREFUSED, ...) or none.
      // Counted as HTTP_<status> like the Go importer's report.
      const code = err && typeof err.code === 'number' ? `HTTP_${err.code}` : String((err && err.code) || 'NETWORK');
      stats.failed += inputs.length;
      addError(code, inputs.length);
      return;
    }
    const wanted = new Set(inputs.map((i) => i.objectWriteTraceId));
    const done = new Set();
    let lines = '';
    for (const r of res.results || []) {
      stats.results++;
      const t = r.objectWriteTraceId;
      if (!wanted.has(t) || !r.id || done.has(t)) continue;
      done.add(t);
      if (idsFd !== null) lines += `${t},${r.id}\n`;
    }
    const named = new Set(done);
    for (const e of res.errors || []) {
      const traces = ((e.context && e.context.objectWriteTraceId) || []).filter((t) => wanted.has(t) && !named.has(t));
      traces.forEach((t) => named.add(t));
      if (traces.length) addError(errorCode(e), traces.length);
    }
    const unnamed = inputs.length - named.size;
    if (unnamed > 0) addError('MISSING_RESULT', unnamed);
    stats.created += done.size;
    stats.failed += inputs.length - done.size;
    if (lines) fs.writeSync(idsFd, lines);
  }

  const start = process.hrtime.bigint();
  const inflight = new Set();
  const submit = async (inputs) => {
    const p = sendBatch(inputs).finally(() => inflight.delete(p));
    inflight.add(p);
    // Back-pressure: stop pulling CSV records while the cap is reached.
    while (inflight.size >= opt.concurrency) await Promise.race(inflight);
  };

  const file = fs.createReadStream(opt.input);
  const parser = file.pipe(parse({ columns: true, bom: true }));
  file.on('error', (err) => parser.destroy(err)); // pipe() does not forward read errors
  let batch = [];
  try {
    for await (const record of parser) {
      stats.rows++;
      batch.push(toInput(record, stats.rows));
      if (batch.length === BATCH_SIZE) {
        await submit(batch);
        batch = [];
      }
    }
    if (batch.length) await submit(batch);
  } finally {
    await Promise.all(inflight);
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  if (idsFd !== null) fs.closeSync(idsFd);

  const out = {
    tool: '@hubspot/api-client',
    version: CLIENT_VERSION,
    rows: stats.rows,
    created: stats.created,
    failed: stats.failed,
    elapsed_seconds: Number(elapsed.toFixed(3)),
    rows_per_second: elapsed > 0 ? Number((stats.rows / elapsed).toFixed(1)) : null, // as the Go importer: rows read / wall time
    peak_rss_kib: process.resourceUsage().maxRSS,
    errors: stats.errors,
    http_429: httpStatuses[429] || 0,
    http_statuses: httpStatuses,
    batches: stats.batches,
    concurrency: opt.concurrency,
  };
  if (opt.ids) out.created_ids = opt.ids;
  const text = JSON.stringify(out, null, 2) + '\n';
  if (opt.out) fs.writeFileSync(opt.out, text);
  else process.stdout.write(text);
}

main().catch((err) => {
  process.stderr.write(`import.js: fatal: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
