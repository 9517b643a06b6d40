import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { replay as replayLog } from "@opsledger/core";
import type { Context } from "../context.ts";
import { EXIT, RefusedError } from "../exit-codes.ts";
import { flag } from "../invocation.ts";
import { breakLine, plural } from "../io.ts";
import { renderReport } from "../report/html.ts";
import { buildReport } from "../report/model.ts";
import { anchorOptions } from "./proof.ts";
import { nowFor, untilOf } from "./views.ts";

/**
 * `opsledger report --out report.html [--until <seq | time>]`: verifies the whole log (against the
 * checkpoints given), then writes one HTML file showing it as of the point asked for. A broken log
 * still gets its report, showing what could be read before the break, and the command exits 3.
 */
export async function report(context: Context): Promise<number> {
  const out = resolve(context.io.cwd, flag(context.invocation, "out") as string);
  const untilFlag = flag(context.invocation, "until");
  const until = untilFlag === undefined ? null : await untilOf(context, untilFlag);
  // the report reads checkpoints like verify does, but leaves this verifier's memory alone
  const { memory: _, ...anchors } = (await anchorOptions(context)).options;
  const store = await context.store();
  const progress = context.out.progress("verifying the log", await context.headSeq());
  let verified = false;
  const model = await buildReport({
    store,
    fleetId: context.fleetId,
    until,
    anchors,
    generatedAt: context.clock.now(),
    onProgress: (n) => progress.update(n),
    fold: (bound) => {
      if (!verified) progress.done();
      verified = true;
      return context.reading("folding the log", (reading) => replayLog(reading, context.fleetId, bound ? { until: bound } : {}));
    },
    now: (state) => (until && "at" in until ? new Date(until.at) : nowFor(context, until ? state.lastEventAt : null)),
  });
  if (!verified) progress.done();
  const html = renderReport(model);
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, html);
  } catch (error) {
    throw new RefusedError(`cannot write ${out}: ${(error as Error).message}`);
  }
  const v = model.verification;
  if (context.out.json) {
    context.out.printJson({
      out,
      bytes: Buffer.byteLength(html),
      ok: v.ok,
      asOf: model.asOf,
      readUpTo: v.readUpTo,
      breaks: v.breaks,
      anchors: v.anchors,
    });
  } else {
    context.out.line(
      `wrote ${out} (${Math.ceil(Buffer.byteLength(html) / 1024)} KiB): fleet "${model.fleetId}" as of seq ${model.asOf.seq}`,
    );
    if (v.ok) context.out.line(`${context.out.paint.green("verified")}: ${plural(v.count, "record")}, head seq ${v.head?.seq ?? 0}`);
    else {
      context.out.line(
        `${context.out.paint.red(`NOT VERIFIED: ${plural(v.breaks.length, "break")}`)}; the report shows the log up to seq ${v.readUpTo}:`,
      );
      for (const b of v.breaks) context.out.line(breakLine(b));
    }
  }
  return v.ok ? 0 : EXIT.broken;
}
