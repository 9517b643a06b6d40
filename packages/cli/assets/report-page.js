// The investigation report's page script: draws the embedded report data with Observable Plot
// (inlined above it, on d3). Text from the log is only ever set as text, never parsed as HTML.
/* global Plot */
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const byId = (id) => document.getElementById(id);

  // an element with attributes and children (strings become text nodes)
  function h(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
    return node;
  }

  // columns: [label, cell(row), class(row)?]
  function table(columns, rows, emptyText) {
    if (rows.length === 0) return h("p", { class: "hint" }, emptyText);
    return h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map(([label]) => h("th", { scope: "col" }, label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            {},
            columns.map(([, cell, className]) => h("td", { class: className?.(row) }, cell(row) ?? "")),
          ),
        ),
      ),
    );
  }

  const width = () => Math.max(480, Math.min(1130, document.body.clientWidth - 48));
  const time = (iso) => new Date(iso);

  // ---- header and verification
  byId("subtitle").textContent =
    `fleet "${data.fleetId}", as of seq ${data.asOf.seq} (${data.asOf.at})${data.asOf.until ? `, --until ${data.asOf.until}` : ""}; generated ${data.generatedAt}`;

  const v = data.verification;
  const head = v.head ? `head seq ${v.head.seq} ${v.head.hash}` : "empty log";
  const records = `${v.count} record${v.count === 1 ? "" : "s"}`;
  const anchors = v.anchors.map((a) => `${a.kind.replace("_", " ")} at size ${a.size}: ${a.consistent ? "consistent" : "INCONSISTENT"}`);
  const banner = v.ok
    ? h(
        "div",
        { class: "banner ok", role: "status" },
        h("strong", {}, "✔ Verified"),
        ` — ${records}, ${head}. `,
        anchors.length > 0
          ? `Checkpoints: ${anchors.join("; ")}.`
          : "No checkpoint was given (opsledger report --checkpoint DIR --key VKEY checks one).",
      )
    : h(
        "div",
        { class: "banner broken", role: "alert" },
        h("strong", {}, "✘ NOT VERIFIED"),
        ` — ${v.breaks.length} break${v.breaks.length === 1 ? "" : "s"} in ${records}. This report shows the log only as far as it could be read in order: up to seq ${v.readUpTo}.`,
        anchors.length > 0 ? ` Checkpoints: ${anchors.join("; ")}.` : "",
        table(
          [
            ["seq", (b) => String(b.seq)],
            ["kind", (b) => h("span", { class: "mono" }, b.kind)],
            ["what", (b) => b.detail],
            ["where", (b) => b.location ?? ""],
          ],
          v.breaks,
          "",
        ),
      );
  byId("verification").append(banner);

  // ---- timeline: one mark per audited event, a lane per kind
  const lanes = ["policy", "mode", "kill switch", "rollout pause", "auto-pause", "drill", "acknowledgement"];
  const laneSymbols = ["circle", "diamond", "cross", "square", "triangle", "star", "wye"];
  const laneColours = ["#1f5fa8", "#7a3ea0", "#b3261e", "#b06a00", "#d1450f", "#2e7d32", "#5d6b75"];
  const marks = data.timeline;
  const b = data.batches;
  const batches = b.seq.map((seq, i) => ({
    seq,
    at: new Date(b.atMs[i]).toISOString(),
    batchId: b.batchId[i],
    mode: b.mode[i],
    attempted: b.attempted[i],
    executed: b.executed[i],
    ambiguous: b.ambiguous[i],
    failed: b.failed[i],
  }));
  // the time axis of the log's events (the posture chart runs on to the report's time), with a
  // little room either side so marks at the ends are whole
  const span = (times) => {
    const first = Math.min(...times.map(Number));
    const last = Math.max(...times.map(Number));
    const pad = Math.max(60_000, (last - first) * 0.02);
    return [new Date(first - pad), new Date(last + pad)];
  };
  const eventTimes = [...marks.map((m) => time(m.at)), ...(batches.length > 0 ? [time(batches[0].at), time(batches.at(-1).at)] : [])];
  const domain = span(eventTimes.length > 0 ? eventTimes : [time(data.asOf.at)]);
  // releases, resumes: the same shape hollow (readable without colour: the shape names the kind)
  const ENDS = new Set(["KillSwitchReleased", "RolloutResumed", "AutoPauseResumed"]);
  const describe = (m) =>
    `seq ${m.seq} · ${m.at}\n${m.who}: ${m.what}${m.why ? `\nwhy: ${m.why}` : ""}${m.reviewBy ? `\nreview by: ${m.reviewBy}` : ""}`;

  byId("timeline-chart").append(
    Plot.plot({
      width: width(),
      height: 70 + 34 * lanes.length,
      marginLeft: 120,
      ariaLabel: "timeline of audited events",
      x: { type: "utc", domain, label: "time (UTC)", grid: true },
      y: { domain: lanes, label: null },
      symbol: { domain: lanes, range: laneSymbols, legend: true },
      color: { domain: lanes, range: laneColours },
      marks: [
        Plot.ruleY(lanes, { stroke: "#e4e4e4" }),
        Plot.dot(marks, {
          x: (m) => time(m.at),
          y: "lane",
          symbol: "lane",
          fill: (m) => (ENDS.has(m.event) ? "#fff" : laneColours[lanes.indexOf(m.lane)]),
          stroke: "#111",
          r: 7,
          title: describe,
          ariaLabel: (m) => `${m.lane}, seq ${m.seq}, ${m.at}: ${m.what}`,
          ariaDescription: "timeline event",
          // each mark names the record it stands for
          render(index, scales, values, dimensions, context, next) {
            const g = next(index, scales, values, dimensions, context);
            [...g.children].forEach((node, k) => {
              node.dataset.seq = String(marks[index[k]].seq);
            });
            return g;
          },
        }),
      ],
    }),
  );

  // outcome rates per batch that attempted anything, with the auto-pause thresholds
  const series = ["executed", "ambiguous", "failed"];
  const rates = batches
    .filter((b) => b.attempted > 0)
    .flatMap((b) => series.map((s) => ({ at: time(b.at), series: s, rate: b[s] / b.attempted, batch: b })));
  // one line per threshold value (ambiguity and failure often share one), labelled with both names
  const thresholds = [];
  if (data.autoPause?.enabled) {
    for (const [name, rate] of [
      ["ambiguity", data.autoPause.ambiguityRateThreshold],
      ["failure", data.autoPause.failureRateThreshold],
    ]) {
      const same = thresholds.find((t) => t.rate === rate);
      if (same) same.label += `, ${name} ≥ ${rate}`;
      else thresholds.push({ rate, label: `auto-pause: ${name} ≥ ${rate}` });
    }
  }
  byId("outcome-chart").append(
    rates.length === 0
      ? h("p", { class: "hint" }, "No dispatch batch attempted an intent up to this point.")
      : Plot.plot({
          width: width(),
          height: 240,
          marginLeft: 120,
          ariaLabel: "outcome rates per dispatch batch",
          x: { type: "utc", domain, label: "time (UTC)", grid: true },
          y: { domain: [0, 1], label: "share of attempted", tickFormat: "%", grid: true },
          symbol: { domain: series, range: ["circle", "triangle", "cross"], legend: true },
          color: { domain: series, range: ["#2e7d32", "#b06a00", "#b3261e"] },
          marks: [
            Plot.ruleY(thresholds, { y: "rate", stroke: "#333", strokeDasharray: "6,4" }),
            Plot.text(thresholds, { y: "rate", x: domain[1], text: "label", textAnchor: "end", dy: -6, fill: "#333" }),
            Plot.lineY(rates, { x: "at", y: "rate", z: "series", stroke: "series", strokeOpacity: 0.6 }),
            // past a few thousand batches, lines alone: a drawn mark per batch and series would slow the page
            Plot.dot(batches.length <= 2000 ? rates : [], {
              x: "at",
              y: "rate",
              symbol: "series",
              stroke: "series",
              fill: "series",
              r: 5,
              title: (d) =>
                `${d.batch.batchId} (${d.batch.mode}) · ${d.batch.at}\n${d.batch.attempted} attempted: ${d.batch.executed} executed, ${d.batch.ambiguous} ambiguous, ${d.batch.failed} failed`,
              ariaLabel: (d) => `${d.batch.batchId}: ${d.series} ${Math.round(d.rate * 100)}% of ${d.batch.attempted}`,
              ariaDescription: "batch outcome",
            }),
          ],
        }),
  );

  const auditColumns = [
    ["seq", (m) => String(m.seq)],
    ["when", (m) => h("span", { class: "mono" }, m.at)],
    ["kind", (m) => m.lane],
    ["who", (m) => m.who],
    ["what", (m) => m.what],
    ["why", (m) => m.why ?? ""],
    ["until", (m) => m.reviewBy ?? ""],
    ["approval", (m) => m.approvalRef ?? ""],
  ];
  byId("timeline-table").append(table(auditColumns, marks, "No audited events up to this point."));

  // ---- governance: posture over time, then who, when, what, why, until
  const postures = ["active", "review_due_soon", "review_expired", "not_required", "authority_missing", "review_deadline_missing"];
  const periods = data.posture.map((p) => ({ ...p, policy: `policy seq ${p.policySeq}`, start: time(p.from), end: time(p.to) }));
  byId("posture-chart").append(
    periods.length === 0
      ? h("p", { class: "hint" }, "No policy applied up to this point.")
      : Plot.plot({
          width: width(),
          height: 60 + 30 * new Set(periods.map((p) => p.policy)).size,
          marginLeft: 120,
          ariaLabel: "governance posture over time",
          x: { type: "utc", domain: span([...eventTimes, time(data.asOf.at)]), label: "time (UTC)", grid: true },
          y: { label: null },
          color: {
            domain: postures,
            range: ["#cfe8d5", "#fde7b0", "#f6c1c1", "#e6e6e6", "#f6c1c1", "#f6c1c1"],
            legend: true,
          },
          marks: [
            Plot.barX(periods, {
              x1: "start",
              x2: "end",
              y: "policy",
              fill: "posture",
              stroke: "#555",
              title: (p) =>
                `${p.policy} (${p.mode}) by ${p.actor ?? "unknown"}: ${p.posture.replaceAll("_", " ")}\n${p.from} → ${p.to}${p.reviewBy ? `\nreview by ${p.reviewBy}` : ""}`,
            }),
            // the posture in words inside each bar: readable without its colour
            Plot.text(periods, {
              x: (p) => new Date((+p.start + +p.end) / 2),
              y: "policy",
              text: (p) => p.posture.replaceAll("_", " "),
              fill: "#111",
            }),
          ],
        }),
  );
  const governanceEvents = marks.filter((m) => ["policy", "mode", "kill switch", "rollout pause", "auto-pause"].includes(m.lane));
  byId("governance-table").append(table(auditColumns, governanceEvents, "No governance events up to this point."));

  // ---- cohort: every loop by bucket, stacked, shaped by its placement; select one to explain it
  const cohort = data.cohort;
  const select = byId("loop-select");
  const explanation = byId("explanation");
  if (!cohort) {
    byId("cohort-hint").textContent = "No policy applied up to this point: no rollout to place loops in.";
  } else {
    const canary = cohort.hashVersion === 1 ? cohort.canaryPercent : Math.round(cohort.canaryPercent * 100);
    byId("cohort-hint").textContent =
      `Every loop at its bucket (hash v${cohort.hashVersion}, 0–${cohort.range - 1}) under the policy of seq ${cohort.policySeq}: ` +
      `canary ${cohort.canaryPercent}% in ${cohort.selectorMode} mode. Select a loop (click, or Tab to it and press Enter, or pick it below) to see every gate it passed or failed in the evaluation of seq ${cohort.evaluationSeq ?? "—"}.`;
    const placements = ["in cohort", "out of canary", "out of scope"];
    const nodes = new Map();
    byId("cohort-chart").append(
      Plot.plot({
        width: width(),
        height: Math.max(160, 80 + 16 * (Math.max(0, ...cohort.loops.map((l) => l.stack)) + 1)),
        ariaLabel: "cohort: loops by bucket",
        x: { domain: [0, cohort.range], label: "bucket", grid: true },
        y: { label: "loops in the bucket", domain: [-0.5, Math.max(0, ...cohort.loops.map((l) => l.stack)) + 0.5], ticks: [] },
        symbol: { domain: placements, range: ["circle", "triangle", "cross"], legend: true },
        color: { domain: placements, range: ["#1f5fa8", "#b06a00", "#777"] },
        marks: [
          cohort.selectorMode === "percent" ? Plot.ruleX([canary], { stroke: "#333", strokeDasharray: "6,4" }) : Plot.ruleX([]),
          cohort.selectorMode === "percent"
            ? Plot.text([canary], {
                x: (d) => d,
                frameAnchor: "top",
                text: () => `canary: buckets below ${canary}`,
                dx: 6,
                textAnchor: "start",
              })
            : Plot.ruleX([]),
          Plot.dot(cohort.loops, {
            x: (l) => l.bucket + 0.5,
            y: "stack",
            symbol: "placement",
            fill: "placement",
            stroke: "#111",
            r: 6,
            title: (l) => `${l.loopId}: bucket ${l.bucket}, ${l.placement}, ${l.candidates} candidate${l.candidates === 1 ? "" : "s"}`,
            ariaDescription: "cohort loop",
            // each drawn loop becomes a focusable button that explains it
            render(index, scales, values, dimensions, context, next) {
              const g = next(index, scales, values, dimensions, context);
              [...g.children].forEach((node, k) => {
                const loop = cohort.loops[index[k]];
                node.setAttribute("tabindex", "0");
                node.setAttribute("role", "button");
                node.setAttribute("aria-pressed", "false");
                node.setAttribute("aria-label", `${loop.loopId}: bucket ${loop.bucket}, ${loop.placement}`);
                node.dataset.loopId = loop.loopId;
                node.addEventListener("click", () => show(loop.loopId));
                node.addEventListener("keydown", (event) => {
                  if (event.key === "Enter" || event.key === " ") {
                    event.preventDefault();
                    show(loop.loopId);
                  }
                });
                nodes.set(loop.loopId, node);
              });
              return g;
            },
          }),
        ],
      }),
    );
    for (const loop of [...cohort.loops].sort((a, b) => (a.loopId < b.loopId ? -1 : 1))) {
      select.append(
        h(
          "option",
          { value: loop.loopId },
          `${loop.loopId} (${loop.placement}, ${loop.candidates} candidate${loop.candidates === 1 ? "" : "s"})`,
        ),
      );
    }
    select.addEventListener("change", () => select.value && show(select.value));

    function show(loopId) {
      const loop = cohort.loops.find((l) => l.loopId === loopId);
      if (!loop) return;
      select.value = loopId;
      for (const [id, node] of nodes) node.setAttribute("aria-pressed", id === loopId ? "true" : "false");
      explanation.replaceChildren(h("h3", {}, `${loop.loopId}: bucket ${loop.bucket}, ${loop.placement}`));
      const e = loop.explanation;
      if (!e) {
        explanation.append(
          h(
            "p",
            {},
            `Not embedded in this report (it embeds ${cohort.loops.length - cohort.explanationsOmitted} loops' explanations): `,
            h("code", {}, `opsledger explain ${loop.loopId}`),
          ),
        );
        return;
      }
      if (e.candidates.length === 0) {
        explanation.append(
          h(
            "p",
            {},
            e.evaluation ? `No candidates in the evaluation of seq ${e.evaluation.seq}: nothing to remediate.` : "No evaluation yet.",
          ),
        );
        return;
      }
      explanation.append(h("p", { class: "hint" }, `From the evaluation of seq ${e.evaluation.seq} (${e.evaluation.at}).`));
      for (const c of e.candidates) {
        explanation.append(
          h(
            "h4",
            {},
            `${c.candidateId}: ${c.outcome.replace("_", " ")}`,
            c.dispatched ? `, since dispatched: ${c.dispatched}` : "",
            c.reasons.length > 0 ? ` (${c.reasons.join(", ")})` : "",
          ),
          table(
            [
              ["gate", (k) => k.check],
              // passed or failed in words, with a mark, and not only by colour
              ["result", (k) => (k.passed ? "passed" : "failed"), (k) => (k.passed ? "pass" : "fail")],
              ["policy", (k) => k.policy],
              ["observed", (k) => k.observed],
              ["reason code", (k) => (k.reason ? h("span", { class: "mono" }, k.reason) : "")],
            ],
            c.checks,
            "",
          ),
        );
      }
    }
  }

  // ---- backlog at the report's point in time
  const intentColumns = [
    ["intent", (i) => h("span", { class: "mono" }, i.intentId)],
    ["loop", (i) => i.loopId],
    ["severity", (i) => i.severity],
    ["why not autonomous", (i) => i.reasons.join(", ")],
    ["last outcome", (i) => i.lastOutcome ?? "never dispatched"],
  ];
  byId("manual-backlog").append(table(intentColumns, data.backlog.manual, "Nothing waits for an operator."));
  byId("retry-guarded").append(table(intentColumns, data.backlog.retryGuarded, "No intent is held by a retry guard."));
})();
