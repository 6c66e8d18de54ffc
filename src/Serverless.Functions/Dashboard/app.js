// The dashboard: plain JavaScript over the app's HTTP API (no build step), charts with Apache ECharts (vendor/).
// The function key is asked once, kept in session storage and sent in the x-functions-key header, never in a URL.
'use strict';

const KEY = 'serverless-ml-key';
const view = document.getElementById('view');
const charts = [];
let refresh = null;

// --- the API -------------------------------------------------------------------------------------------------------

async function api(path, { as = 'json' } = {}) {
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    await askKey();
    return api(path, { as });
  }

  const response = await fetch(`/api/${path}`, { headers: { 'x-functions-key': key } });
  if (response.status === 401) {
    await askKey('That key was refused (401): paste the function key again.');
    return api(path, { as });
  }

  if (response.status === 404) {
    return null;
  }

  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${problem.title || response.statusText}: ${problem.detail || path}`);
  }

  return as === 'text' ? response.text() : response.json();
}

function askKey(message) {
  const dialog = document.getElementById('key-dialog');
  const error = document.getElementById('key-error');
  error.hidden = !message;
  error.textContent = message || '';
  dialog.showModal();
  return new Promise(resolve => {
    document.getElementById('key-form').onsubmit = () => {
      sessionStorage.setItem(KEY, document.getElementById('key-input').value.trim());
      document.getElementById('key-input').value = '';
      resolve();
    };
  });
}

// --- rendering helpers ---------------------------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const pill = (text, kind = text) => `<span class="pill ${esc(kind)}">${esc(text)}</span>`;
const num = value => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(4)) : esc(value));
const when = value => (value ? new Date(value).toLocaleString() : '');
const empty = html => `<div class="empty">${html}</div>`;

function table(columns, rows, emptyText) {
  if (!rows.length) {
    return empty(emptyText);
  }

  const head = columns.map(c => `<th>${esc(c.title)}</th>`).join('');
  const body = rows.map(r => `<tr>${columns.map(c => `<td class="${c.num ? 'num' : ''}">${c.html(r)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function chart(id, option) {
  const element = document.getElementById(id);
  if (!element || !window.echarts) {
    return;
  }

  const instance = echarts.init(element);
  // No animation under automation, so a screenshot shows the finished chart.
  instance.setOption({ animation: !navigator.webdriver, ...option });
  charts.push(instance);
}

/** The metric a model is judged by, as the registry's versions carry it: cross-validated when there is one. */
function primaryMetric(metrics) {
  const keys = Object.keys(metrics || {});
  return ['cv_auc', 'auc', 'cv_macroAccuracy', 'macroAccuracy', 'cv_rSquared', 'rSquared'].find(k => keys.includes(k)) || keys[0];
}

// --- views ---------------------------------------------------------------------------------------------------------

async function modelsView() {
  const page = await api('models?pageSize=100');
  const models = page?.models ?? [];
  view.innerHTML = `<h1>Models</h1><p class="muted">Every model in the registry, with its aliases and latest version.</p>` +
    table([
      { title: 'Model', html: m => `<a href="#/models/${encodeURIComponent(m.name)}">${esc(m.name)}</a>` },
      { title: 'Aliases', html: m => Object.entries(m.aliases).map(([a, v]) => pill(`${a} → v${v}`, 'ok')).join('') },
      { title: 'Latest version', num: true, html: m => m.latestVersion },
      { title: 'Tags', html: m => Object.entries(m.tags).map(([k, v]) => pill(`${k}: ${v}`)).join('') },
      { title: 'Updated', html: m => when(m.updatedAt) },
    ], models, 'No models yet. Upload a dataset (<code>PUT /api/datasets/churn.csv</code>) and start a training run ' +
      '(<code>POST /api/models/churn/train</code>); <code>./scripts/run-local.sh</code> does both with the sample data.');
}

async function modelView(name) {
  const [detail, runs, jobs, drift] = await Promise.all([
    api(`models/${encodeURIComponent(name)}?pageSize=100`),
    api(`runs?model=${encodeURIComponent(name)}&pageSize=50`),
    api(`models/${encodeURIComponent(name)}/scoring-jobs?pageSize=50`),
    api(`models/${encodeURIComponent(name)}/drift?pageSize=100`),
  ]);
  if (!detail) {
    view.innerHTML = empty(`No model <b>${esc(name)}</b>. <a href="#/">See the models there are.</a>`);
    return;
  }

  const versions = detail.versions;
  const metric = primaryMetric(versions[0]?.metrics);
  view.innerHTML = `<h1>${esc(name)}</h1>
    <p>${Object.entries(detail.model.aliases).map(([a, v]) => pill(`${a} → v${v}`, 'ok')).join('') || '<span class="muted">No alias yet.</span>'}
       ${Object.entries(detail.model.tags).map(([k, v]) => pill(`${k}: ${v}`)).join('')}</p>
    <h2>${esc(metric ?? 'Metric')} over versions</h2><div id="versions-chart" class="chart"></div>
    <h2>Versions</h2>${table([
      { title: 'Version', num: true, html: v => `v${v.version}` },
      { title: 'Status', html: v => pill(v.status, v.status === 'Ready' ? 'READY' : v.status) },
      { title: 'Trainer', html: v => esc(v.trainer) },
      { title: metric ?? 'Metric', num: true, html: v => num(v.metrics[metric]) },
      { title: 'Run', html: v => `<a href="#/runs/${encodeURIComponent(v.runId)}">${esc(v.runId)}</a>` },
      { title: 'Created', html: v => when(v.createdAt) },
    ], versions, 'No versions yet.')}
    <h2>Training runs</h2>${runsTable(runs?.runs ?? [], 'No training runs of this model yet.')}
    <h2>Scoring jobs</h2>${jobsTable(jobs?.jobs ?? [])}
    <h2>Drift per column over batches (PSI)</h2>
    ${(drift?.reports ?? []).length ? '<div id="drift-chart" class="chart"></div>' :
      empty(`No drift measured yet: drop a CSV into <code>score-in/${esc(name)}/</code> and each scored batch is compared with the training data.`)}`;

  const ordered = [...versions].reverse();
  chart('versions-chart', {
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: ordered.map(v => `v${v.version}`) },
    yAxis: { type: 'value', scale: true },
    series: [{
      name: metric, type: 'line', data: ordered.map(v => v.metrics[metric] ?? null), symbolSize: 9,
      label: { show: ordered.length <= 20, position: 'top', formatter: p => num(p.value) },
    }],
  });
  const reports = drift?.reports ?? [];
  const columns = [...new Set(reports.flatMap(r => r.drift.map(d => d.column)))];
  chart('drift-chart', {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll' },
    xAxis: { type: 'category', data: reports.map(r => when(r.measuredAt)) },
    yAxis: { type: 'value', name: 'PSI' },
    series: columns.map(c => ({ name: c, type: 'line', data: reports.map(r => r.drift.find(d => d.column === c)?.psi ?? null) })),
  });
}

function runsTable(runs, emptyText) {
  return table([
    { title: 'Run', html: r => `<a href="#/runs/${encodeURIComponent(r.runId)}">${esc(r.runId)}</a>` },
    { title: 'Status', html: r => pill(r.status) },
    { title: 'Metrics', html: r => Object.entries(r.metrics).filter(([k]) => k.startsWith('cv_') || ['auc', 'rSquared', 'macroAccuracy'].includes(k)).map(([k, v]) => `${esc(k)} ${num(v)}`).join(', ') },
    { title: 'Started', html: r => when(r.startedAt) },
    { title: 'Error', html: r => `<span class="error">${esc(r.error)}</span>` },
  ], runs, emptyText);
}

function jobsTable(jobs) {
  return table([
    { title: 'File', html: j => `<a href="#/jobs/${encodeURIComponent(j.name)}">${esc(j.name)}</a>` },
    { title: 'Status', html: j => pill(j.summary.status) },
    { title: 'Rows in', num: true, html: j => j.summary.rowsIn },
    { title: 'Scored', num: true, html: j => j.summary.rowsScored },
    { title: 'Rejected', num: true, html: j => j.summary.rowsRejected },
    { title: 'Version', num: true, html: j => (j.summary.modelVersion ? `v${j.summary.modelVersion}` : '') },
    { title: 'Seconds', num: true, html: j => num(j.summary.durationSeconds) },
  ], jobs, 'No scoring jobs yet: drop a CSV into <code>score-in/{model}/</code>, or <code>PUT /api/scoring/inputs/{model}/{file}.csv</code>.');
}

async function runsView() {
  const page = await api('runs?pageSize=100');
  view.innerHTML = `<h1>Training runs</h1>${runsTable(page?.runs ?? [], 'No training runs yet: start one with <code>POST /api/models/{name}/train</code>.')}`;
}

async function runView(id) {
  const [run, trials, timeline] = await Promise.all([
    api(`runs/${encodeURIComponent(id)}`),
    api(`runs/${encodeURIComponent(id)}/trials?pageSize=1000`),
    api(`runs/${encodeURIComponent(id)}/timeline`),
  ]);
  if (!run) {
    view.innerHTML = empty(`No run <b>${esc(id)}</b>. <a href="#/runs">See the runs there are.</a>`);
    return;
  }

  const progress = run.progress;
  const status = progress?.customStatus ?? {};
  const list = trials?.runs ?? [];
  const metric = status.primaryMetric || primaryMetric(list.find(t => Object.keys(t.metrics).length)?.metrics);
  const model = run.run?.experiment;
  view.innerHTML = `<h1>Run ${esc(id)}</h1>
    <p>${model ? `Model <a href="#/models/${encodeURIComponent(model)}">${esc(model)}</a> · ` : ''}${pill(progress?.runtimeStatus ?? run.run?.status ?? 'unknown')}
       ${progress?.error ? `<span class="error">${esc(progress.error)}</span>` : ''}</p>
    <div class="grid">
      <div class="stat">Stage<b id="stage">${esc(status.stage ?? run.run?.status ?? '')}</b></div>
      <div class="stat">Trials done / planned<b>${esc(status.trialsDone ?? list.length)} / ${esc(status.trialsPlanned ?? list.length)}</b></div>
      <div class="stat">Stopped early<b>${esc(status.trialsStopped ?? list.filter(t => t.status === 'Stopped').length)}</b></div>
      <div class="stat">Best ${esc(metric ?? '')} so far<b>${num(status.bestValue ?? bestOf(list, metric))}</b></div>
    </div>
    <h2>Trials: parameters against ${esc(metric ?? 'the metric')}</h2>
    ${list.length ? '<div id="trials-chart" class="chart"></div>' : empty('No trials yet: they appear as the sweep runs.')}
    ${table([
      { title: 'Trial', html: t => esc(t.runId.slice(id.length + 1)) },
      { title: 'Trainer', html: t => esc(t.trainer) },
      { title: 'Status', html: t => pill(t.status) },
      { title: metric ?? 'Metric', num: true, html: t => num(t.metrics[metric]) },
      { title: 'Parameters', html: t => Object.entries(t.parameters).map(([k, v]) => `${esc(k)}=${num(v)}`).join(', ') },
      { title: 'Note', html: t => esc(t.error) },
    ], list, 'No trials yet.')}
    <h2>Timeline</h2>
    ${(timeline?.steps ?? []).length ? '<div id="timeline-chart" class="chart"></div>' : empty('No orchestration history for this run (it may have been purged).')}
    <h2>Report</h2>
    ${run.reportUrl ? '<iframe id="report" class="report" sandbox="allow-same-origin" title="Evaluation report"></iframe>' : empty('The report is written when the run has evaluated its best model.')}`;

  parallelChart(list, metric);
  timelineChart(timeline?.steps ?? []);
  if (run.reportUrl) {
    const html = await api(run.reportUrl.replace(/^\/api\//, ''), { as: 'text' });
    document.getElementById('report').srcdoc = html;
  }

  if (['Running', 'Pending'].includes(progress?.runtimeStatus)) {
    refresh = setTimeout(route, 3000);
  }
}

const bestOf = (trials, metric) => {
  const values = trials.map(t => t.metrics[metric]).filter(v => typeof v === 'number');
  return values.length ? Math.max(...values) : '';
};

function parallelChart(trials, metric) {
  const parameters = [...new Set(trials.flatMap(t => Object.keys(t.parameters)))];
  const trainers = [...new Set(trials.map(t => t.trainer ?? ''))];
  const dimensions = [{ name: 'trainer', type: 'category', data: trainers }, ...parameters.map(p => ({ name: p })), { name: metric }];
  const values = trials.map(t => t.metrics[metric]).filter(v => typeof v === 'number');
  chart('trials-chart', {
    parallelAxis: dimensions.map((d, i) => ({ dim: i, ...d })),
    visualMap: values.length ? { min: Math.min(...values), max: Math.max(...values), dimension: dimensions.length - 1, calculable: true, right: 0 } : undefined,
    series: [{
      type: 'parallel',
      lineStyle: { width: 2, opacity: 0.7 },
      data: trials.map(t => [t.trainer ?? '', ...parameters.map(p => t.parameters[p] ?? null), t.metrics[metric] ?? null]),
    }],
  });
}

function timelineChart(steps) {
  const element = document.getElementById('timeline-chart');
  if (element) {
    element.style.height = `${Math.max(220, 60 + (steps.length * 22))}px`;
  }

  const start = Math.min(...steps.map(s => Date.parse(s.start)));
  const seconds = value => (Date.parse(value) - start) / 1000;
  chart('timeline-chart', {
    tooltip: { formatter: p => `${esc(p.name)}: ${p.value[1].toFixed(1)} s → ${p.value[2].toFixed(1)} s, ${esc(steps[p.dataIndex].outcome)}` },
    xAxis: { type: 'value', name: 'seconds' },
    grid: { left: 150, right: 40 },
    yAxis: { type: 'category', data: steps.map((s, i) => `${i + 1}. ${s.name}`), inverse: true },
    series: [{
      type: 'custom',
      renderItem: (params, api) => {
        const from = api.coord([api.value(1), params.dataIndex]);
        const to = api.coord([api.value(2), params.dataIndex]);
        const height = api.size([0, 1])[1] * 0.6;
        return { type: 'rect', shape: { x: from[0], y: from[1] - height / 2, width: Math.max(to[0] - from[0], 2), height }, style: api.style() };
      },
      encode: { x: [1, 2], y: 0 },
      data: steps.map((s, i) => ({
        name: s.name,
        value: [i, seconds(s.start), s.end ? seconds(s.end) : seconds(new Date().toISOString())],
        itemStyle: { color: { failed: '#c0392b', running: '#b7791f', cancelled: '#9aa0a6' }[s.outcome] ?? '#2f6fd6' },
      })),
    }],
  });
}

async function jobView(name) {
  const model = name.split('/')[0].split('@')[0];
  const summary = await api(`scoring/results/${name.split('/').map(encodeURIComponent).join('/')}`);
  if (!summary) {
    view.innerHTML = empty(`No summary for <b>${esc(name)}</b> yet.`);
    return;
  }

  const errors = summary.rowsRejected > 0 && summary.status === 'scored'
    ? await api(`scoring/results/${name.split('/').map(encodeURIComponent).join('/')}?file=errors.csv`, { as: 'text' })
    : null;
  view.innerHTML = `<h1>${esc(name)}</h1>
    <p>Model <a href="#/models/${encodeURIComponent(model)}">${esc(model)}</a> ${summary.modelVersion ? `v${summary.modelVersion}` : ''} · ${pill(summary.status)}</p>
    <div class="grid">
      <div class="stat">Rows in<b>${summary.rowsIn}</b></div>
      <div class="stat">Scored<b>${summary.rowsScored}</b></div>
      <div class="stat">Rejected<b>${summary.rowsRejected}</b></div>
      <div class="stat">Seconds<b>${num(summary.durationSeconds)}</b></div>
    </div>
    ${summary.problems.length ? `<h2>Problems</h2><ul>${summary.problems.map(p => `<li class="error">${esc(p)}</li>`).join('')}</ul>` : ''}
    <h2>Drift of this batch</h2>
    ${table([
      { title: 'Column', html: d => esc(d.column) },
      { title: 'Verdict', html: d => pill(d.verdict) },
      { title: 'PSI', num: true, html: d => num(d.psi) },
      { title: 'Test', html: d => esc(d.test) },
      { title: 'p-value', num: true, html: d => num(d.pValue) },
      { title: 'Note', html: d => esc(d.note) },
    ], summary.drift ?? [], 'No drift measured for this batch.')}
    <h2>Errors</h2>${errors ? `<pre>${esc(errors.split('\n').slice(0, 101).join('\n'))}</pre>` : empty('No rows were rejected.')}`;
}

// --- routing -------------------------------------------------------------------------------------------------------

async function route() {
  clearTimeout(refresh);
  charts.splice(0).forEach(c => c.dispose());
  const path = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [section, ...rest] = path.split('/');
  try {
    if (section === 'models' && rest.length) {
      await modelView(rest.join('/'));
    } else if (section === 'runs' && rest.length) {
      await runView(rest.join('/'));
    } else if (section === 'runs') {
      await runsView();
    } else if (section === 'jobs' && rest.length) {
      await jobView(rest.join('/'));
    } else {
      await modelsView();
    }
  } catch (error) {
    view.innerHTML = `<div class="card error">${esc(error.message)}</div>`;
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => charts.forEach(c => c.resize()));
document.getElementById('change-key').addEventListener('click', async () => {
  sessionStorage.removeItem(KEY);
  await askKey();
  route();
});
route();
