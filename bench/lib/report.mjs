// Turns the results into the printed table and the target verdicts.

const DASH = '-';

function ms(value) {
  if (value === null || value === undefined) return DASH;
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ms`;
}

function mib(kb) {
  return kb === null || kb === undefined ? DASH : `${(kb / 1024).toFixed(2)} MiB`;
}

function kib(kb) {
  return kb === null || kb === undefined ? DASH : `${kb.toFixed(1)} KiB`;
}

function cpu(msPerS) {
  return msPerS === null || msPerS === undefined ? DASH : `${msPerS.toFixed(2)} ms/s`;
}

function medianP90(summary) {
  if (summary?.notApplicable) return 'n/a';
  return summary ? `${ms(summary.median)} / ${ms(summary.p90)}` : DASH;
}

const medianOf = (summary) => (summary ? ms(summary.median) : DASH);

/** Memory growth per service between the smallest and largest tree measured. */
export function perServiceKB(memory, sizes, key) {
  const small = Math.min(...sizes);
  const large = Math.max(...sizes);
  if (!memory?.[small] || !memory?.[large]) return null;
  return (memory[large][key] - memory[small][key]) / (large - small);
}

/** Rows of [label, s6, steward]; a cell is DASH when it was not measured. */
export function tableRows(results, settings) {
  const sizes = settings.bootPlan.map((p) => p.services);
  const row = (label, cell) => [label, cell(results.s6, 's6'), cell(results.steward, 'steward')];
  const rows = [
    row('Restart latency, throttle off (median / p90)', (r) => medianP90(r?.restart?.throttleOff)),
    // A property of the machine, not of either peer: shown in both columns.
    row('Restart latency of a bare C loop (posix_spawn, then waitpid; no supervisor), its kills taking turns with Steward\'s: the floor on this machine (median / p90)',
      () => (results.floor ? medianP90(results.floor.restart?.throttleOff) : DASH)),
    row(`Restart latency, default throttle, kill after ${settings.settledUptimeMs} ms up (median / p90)`,
      (r) => medianP90(r?.restart?.default)),
    row(`Respawn delay, default throttle, kill ${settings.earlyUptimeMs} ms after start (median)`,
      (r) => medianOf(r?.restart?.throttled)),
  ];
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`Boot to ${services} services running (median of ${reps})`, (r) => medianOf(r?.boot?.[services])));
  }
  rows.push(row(`Boot to ${settings.busyServices} services running, another process keeping one CPU busy (median of ${settings.busyReps})`,
    (r) => medianOf(r?.busyBoot?.[settings.busyServices])));
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`First of ${services} services running (median of ${reps})`,
      (r) => medianOf(r?.firstService?.[services])));
  }
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`Per service after the first, (boot - first) / ${services - 1}, at ${services} services (median of ${reps})`,
      (r) => medianOf(r?.perServiceAfterFirst?.[services])));
  }
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`CPU time of the supervisor's own processes, launch until ${services} services running (median of ${reps})`,
      (r) => medianOf(r?.bootCpuSupervisor?.[services])));
  }
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`CPU time of the ${services} services' own processes (run script, then \`sleep\`) at boot (median of ${reps})`,
      (r) => medianOf(r?.bootCpuServices?.[services])));
  }
  for (const { services, reps } of settings.bootPlan) {
    rows.push(row(`Shutdown with ${services} prompt services (median of ${reps})`,
      (r) => medianOf(r?.shutdown?.[services])));
  }
  rows.push(...graphRows(results, settings, row));
  for (const n of sizes) {
    rows.push(row(`Supervisor processes / threads at ${n} services`,
      (r) => (r?.memory?.[n] ? `${r.memory[n].processes} / ${r.memory[n].threads}` : DASH)));
  }
  for (const n of sizes) rows.push(row(`PSS at ${n} services`, (r) => mib(r?.memory?.[n]?.pssKB)));
  rows.push(row('PSS per added service', (r) => kib(perServiceKB(r?.memory, sizes, 'pssKB'))));
  for (const n of sizes) {
    rows.push(row(`Namespace-local PSS at ${n} services`, (r) => mib(r?.memory?.[n]?.localPssKB)));
  }
  rows.push(row('Namespace-local PSS per added service', (r) => kib(perServiceKB(r?.memory, sizes, 'localPssKB'))));
  const largest = Math.max(...sizes);
  rows.push(row(`USS (private) at ${largest} services`, (r) => mib(r?.memory?.[largest]?.ussKB)));
  rows.push(row(`RSS (no sharing credit) at ${largest} services`, (r) => mib(r?.memory?.[largest]?.rssKB)));
  rows.push(row(`Page tables (kernel, not in PSS) at ${largest} services`, (r) => mib(r?.memory?.[largest]?.pteKB)));
  rows.push(row(`Idle CPU at ${largest} services`, (r) => cpu(r?.memory?.[largest]?.idleCpuMsPerS)));
  // Control commands against an idle supervisor; spawn to exit, as seen by the harness.
  const runs = `median / p90 of ${settings.cliRuns}`;
  const stewardOnly = (summary) => (r, id) => (id === 's6' ? (r ? 'n/a' : DASH) : medianP90(summary(r)));
  rows.push(row(`\`steward status\`, all ${settings.cliServices} services (${runs})`, stewardOnly((r) => r?.cli?.status)));
  rows.push(row(`\`s6-svstat DIR\`, one service; s6: Debian's, Steward: bin/s6-tool linked as s6-svstat (${runs})`,
    (r) => medianP90(r?.cli?.s6svstat)));
  rows.push(row(`Baseline \`node -e 0\`, no supervisor involved (${runs})`, stewardOnly((r) => r?.cli?.nodeBaseline)));
  return rows;
}

/** The service-graph figures of the main table (see lib/graph.mjs). */
function graphRows(results, settings, row) {
  const g = (r, scenario, variant) => r?.graph?.[scenario]?.[variant];
  const real = (r) => g(r, 'realistic', 'graph') ?? g(r, 'realistic', 'flat') ?? g(r, 'realistic', 'plain');
  const longruns = real(results.steward)?.longruns ?? real(results.s6)?.longruns ?? 'its';
  const oneshotCount = g(results.steward, 'realistic', 'graph')?.oneshots;
  const oneshots = oneshotCount === undefined ? 'oneshots' : `${oneshotCount} oneshots`;
  const reps = settings.graphRealisticReps;
  const chainReps = settings.graphChainReps;
  const n = settings.chainLevels * settings.chainWidth;
  const stewardOnly = (pick) => (r, id) => (id === 's6' ? (r ? 'n/a' : DASH) : medianOf(pick(r)));
  const both = (s6Pick, stewardPick) => (r, id) => medianOf(id === 's6' ? s6Pick(r) : stewardPick(r));
  return [
    row(`Realistic tree, its ${longruns} longruns alone (s6: plain service directories; Steward: s6-rc.d longruns, no dependencies): all started (median of ${reps})`,
      both((r) => g(r, 'realistic', 'plain')?.boot, (r) => g(r, 'realistic', 'flat')?.boot)),
    row(`Realistic tree, whole (${oneshots}, bundles, dependencies, readiness, a logger pipeline): all ${longruns} longruns started (median of ${reps})`,
      stewardOnly((r) => g(r, 'realistic', 'graph')?.boot)),
    row(`Realistic tree: first script running (s6: plain; Steward: whole tree) (median of ${reps})`,
      both((r) => g(r, 'realistic', 'plain')?.firstScript, (r) => g(r, 'realistic', 'graph')?.firstScript)),
    row(`Shutdown of the realistic tree (s6: its longruns alone) (median of ${reps})`,
      both((r) => g(r, 'realistic', 'plain')?.shutdown, (r) => g(r, 'realistic', 'graph')?.shutdown)),
    row(`Node as PID 1, no supervisor: launch to its first statement, plain / with koffi and libc loaded (median of ${reps})`,
      (r, id) => (id === 's6' || !r ? (r ? 'n/a' : DASH)
        : `${medianOf(g(r, 'realistic', 'nodeFloor')?.boot)} / ${medianOf(g(r, 'realistic', 'koffiFloor')?.boot)}`)),
    row(`${n} longruns, no dependencies (s6: plain; Steward: s6-rc.d): all started (median of ${chainReps})`,
      both((r) => g(r, 'chain', 'plain')?.boot, (r) => g(r, 'chain', 'flat')?.boot)),
    row(`${n} longruns, ${settings.chainLevels} levels of ${settings.chainWidth}, each level depending on the previous one: all started (median of ${chainReps})`,
      stewardOnly((r) => g(r, 'chain', 'graph')?.boot)),
    row(`Shutdown with ${n} longruns (s6: plain; Steward: the ${settings.chainLevels}-level chain) (median of ${chainReps})`,
      both((r) => g(r, 'chain', 'plain')?.shutdown, (r) => g(r, 'chain', 'graph')?.shutdown)),
  ];
}

/**
 * The breakdowns of the service-graph figures: when each marker was written
 * (median over the repetitions), in the realistic tree's boot and shutdown,
 * and the last start of each level of the chain.
 */
export function graphBreakdownTables(results, settings) {
  const g = (r, scenario, variant) => r?.graph?.[scenario]?.[variant];
  const columns = [
    ['s6, longruns alone', g(results.s6, 'realistic', 'plain')],
    ['Steward, longruns alone', g(results.steward, 'realistic', 'flat')],
    ['Steward, whole tree', g(results.steward, 'realistic', 'graph')],
  ].filter(([, v]) => v);
  const tables = [];
  if (columns.length) {
    const order = (field) => {
      const keys = [...new Set(columns.flatMap(([, v]) => Object.keys(v[field] ?? {})))];
      // In the order of the last column that has the marker (the whole tree first).
      const at = (key) => {
        for (const [, v] of [...columns].reverse()) if (v[field]?.[key]) return v[field][key].median;
        return Infinity;
      };
      return keys.sort((a, b) => at(a) - at(b));
    };
    const boot = [['Boot of the realistic tree: marker, median ms after the launch', ...columns.map(([label]) => label)]];
    for (const key of order('markers')) boot.push([key, ...columns.map(([, v]) => medianOf(v.markers?.[key]))]);
    boot.push(['(every longrun started)', ...columns.map(([, v]) => medianOf(v.boot))]);
    tables.push(boot);
    const stop = [['Shutdown of the realistic tree: marker, median ms after the SIGTERM', ...columns.map(([label]) => label)]];
    for (const key of order('shutdownMarkers')) stop.push([key, ...columns.map(([, v]) => medianOf(v.shutdownMarkers?.[key]))]);
    stop.push(['(namespace gone)', ...columns.map(([, v]) => medianOf(v.shutdown))]);
    tables.push(stop);
  }
  // s6 gets no dependencies, so its levels mean nothing (it starts them in directory order).
  const chainColumns = [
    ['s6, no dependencies', g(results.s6, 'chain', 'plain'), false],
    ['Steward, no dependencies', g(results.steward, 'chain', 'flat'), true],
    ['Steward, chain', g(results.steward, 'chain', 'graph'), true],
  ].filter(([, v]) => v?.levels);
  if (chainColumns.length) {
    const chain = [[`Chain: last start of level k (its ${settings.chainWidth} longruns), median ms after the launch`, ...chainColumns.map(([label]) => label)]];
    chain.push(['first script running', ...chainColumns.map(([, v]) => medianOf(v.firstScript))]);
    for (let level = 0; level < settings.chainLevels; level++) {
      chain.push([`level ${level}`, ...chainColumns.map(([, v, levels]) => (levels ? medianOf(v.levels[level]) : DASH))]);
    }
    chain.push(['(every longrun started)', ...chainColumns.map(([, v]) => medianOf(v.boot))]);
    tables.push(chain);
  }
  return tables;
}

/** Plain text with padded columns, or a Markdown table; the first row is the header. */
export function renderTable(rows, { markdown = false } = {}) {
  if (markdown) {
    const line = (r) => `| ${r.join(' | ')} |`;
    return [line(rows[0]), line(rows[0].map(() => '---')), ...rows.slice(1).map(line)].join('\n');
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => String(r[col]).length)));
  const line = (r) => r.map((cell, col) => String(cell).padEnd(widths[col])).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * Verdicts for Steward's targets. A verdict is "not measured" when a figure
 * it needs is missing (e.g. Steward did not run).
 */
export function evaluateTargets(results, settings) {
  const s6 = results.s6;
  const st = results.steward;
  const sizes = settings.bootPlan.map((p) => p.services);
  const largest = Math.max(...sizes);
  const verdict = (target, value, reference, test) => ({
    target,
    steward: value ?? null,
    reference: reference ?? null,
    status: value === null || value === undefined || reference === null || reference === undefined
      ? 'not measured'
      : test(value, reference) ? 'met' : 'not met',
  });
  return [
    verdict('Restart latency with throttle off: median <= 5 ms',
      st?.restart?.throttleOff?.median, 5, (v, ref) => v <= ref),
    verdict('Boot to 100 services: median <= s6 median in the same run',
      st?.boot?.[100]?.median, s6?.boot?.[100]?.median, (v, ref) => v <= ref),
    verdict('Shutdown with 10 prompt services: median <= 100 ms',
      st?.shutdown?.[10]?.median, 100, (v, ref) => v <= ref),
    ...graphTargets(results, settings, verdict),
    verdict(`steward status with ${settings.cliServices} services: median <= 150 ms`,
      st?.cli?.status?.median, 150, (v, ref) => v <= ref),
    // The memory targets are judged on both PSS figures; see proc.mjs for why they differ.
    ...[['pssKB', 'smaps_rollup PSS'], ['localPssKB', 'namespace-local PSS']].flatMap(([key, name]) => [
      verdict(`${name} at ${largest} services below s6's total (KiB)`,
        st?.memory?.[largest]?.[key], s6?.memory?.[largest]?.[key], (v, ref) => v < ref),
      verdict(`${name} per added service <= 50 KiB`,
        perServiceKB(st?.memory, sizes, key), 50, (v, ref) => v <= ref),
    ]),
  ];
}

/** Service graphs: Steward against plain s6 on the same longruns, and the shutdown. */
function graphTargets(results, settings, verdict) {
  const g = (r, scenario, variant) => r?.graph?.[scenario]?.[variant];
  const bound = (s6Median) => (s6Median === undefined || s6Median === null ? null : 1.5 * s6Median);
  const n = settings.chainLevels * settings.chainWidth;
  return [
    verdict('Realistic tree: all longruns started, median <= 1.5 x plain s6 on the same longruns (ms)',
      g(results.steward, 'realistic', 'graph')?.boot?.median, bound(g(results.s6, 'realistic', 'plain')?.boot?.median),
      (v, ref) => v <= ref),
    verdict(`${n} longruns in a ${settings.chainLevels}-level chain: all started, median <= 1.5 x plain s6 on the same longruns (ms)`,
      g(results.steward, 'chain', 'graph')?.boot?.median, bound(g(results.s6, 'chain', 'plain')?.boot?.median),
      (v, ref) => v <= ref),
    verdict('Shutdown of the realistic tree: median <= 200 ms',
      g(results.steward, 'realistic', 'graph')?.shutdown?.median, 200, (v, ref) => v <= ref),
  ];
}

export function renderTargets(targets, options) {
  const fmt = (v) => (v === null ? DASH : Number.isInteger(v) ? String(v) : v.toFixed(2));
  const rows = [['Target', 'Steward', 'Bound', 'Verdict']];
  for (const t of targets) rows.push([t.target, fmt(t.steward), fmt(t.reference), t.status]);
  return renderTable(rows, options);
}

/** How much of the realistic tree's start order was checked (lib/graph.mjs); a violation fails the repetition. */
function orderNote(results) {
  const checked = results.steward?.graph?.realistic?.graph?.orderChecked;
  if (!checked?.length) return null;
  return `Start order of the realistic tree under Steward, checked from the fifo on each of ${checked.length} boots: ${checked[0]} (script, dependency) pairs each, in order`;
}

/** The whole report: machine notes, the measurements and the target verdicts. */
export function renderReport(output, settings, options = {}) {
  const { machine } = output;
  const notes = [
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, Node ${machine.node}, s6 ${machine.s6}, Steward ${machine.stewardCommit}`,
    `Load average before the run: ${machine.loadAverage.join(' ')}; scratch directory on ${machine.scratchDir.filesystem}`,
    `Host variables left out of the environment of the supervisors and the commands: ${machine.droppedNodeVariables?.join(' ') || 'none'}`,
    output.stewardSkipped ? `Steward NOT measured: ${output.stewardSkipped}` : null,
    orderNote(output.results),
  ].filter(Boolean);
  const header = ['Measurement', 's6', 'Steward'];
  return [
    notes.join(options.markdown ? '  \n' : '\n'),
    renderTable([header, ...tableRows(output.results, settings)], options),
    ...graphBreakdownTables(output.results, settings).map((rows) => renderTable(rows, options)),
    renderTargets(output.targets, options),
  ].join('\n\n');
}
