/**
 * The dashboard: one page, plain inline JavaScript drawing SVG. "Live" starts from the last
 * five minutes of raw samples and appends each server-sent event; the range buttons ask
 * `/api/range`, which answers from rollups.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cpu-monitor</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .bar { display: flex; gap: 8px; align-items: center; margin: 12px 0; }
  button { font: inherit; padding: 4px 12px; border: 1px solid #9aa3b2; border-radius: 4px; background: #fff; cursor: pointer; }
  button[aria-pressed="true"] { background: #1d2330; color: #fff; border-color: #1d2330; }
  .card { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
  .card h2 { font-size: 15px; margin: 0 0 6px; }
  svg { width: 100%; height: 240px; display: block; }
  .legend span { margin-right: 14px; white-space: nowrap; }
  .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  #status { color: #5b6475; }
  text { font-size: 11px; fill: #5b6475; }
</style>
</head>
<body>
<h1>cpu-monitor</h1>
<div id="status">connecting…</div>
<div class="bar" role="group" aria-label="range">
  <button data-window="live" aria-pressed="true">Live</button>
  <button data-window="5m" aria-pressed="false">5 min</button>
  <button data-window="1h" aria-pressed="false">1 h</button>
  <button data-window="24h" aria-pressed="false">24 h</button>
</div>
<div class="card"><h2>CPU by mode (% of all cores)</h2><div class="legend" id="cpu-legend"></div><svg id="cpu" viewBox="0 0 900 240" preserveAspectRatio="none"></svg></div>
<div class="card"><h2>Event-loop delay (ms)</h2><div class="legend" id="loop-legend"></div><svg id="loop" viewBox="0 0 900 240" preserveAspectRatio="none"></svg></div>
<script>
const CPU = [['user', '#2f6fdf'], ['system', '#e0533d'], ['nice', '#8e44ad'], ['irq', '#f39c12'], ['process', '#16a085']];
const LOOP = [['loopMean', '#2f6fdf', 'mean'], ['loopP99', '#e0533d', 'p99']];
const state = { window: 'live', points: [] };
const NS = 'http://www.w3.org/2000/svg';

function legend(id, series) {
  document.getElementById(id).innerHTML = series.map(([key, color, label]) => '<span><i style="background:' + color + '"></i>' + (label || key) + '</span>').join('');
}
legend('cpu-legend', CPU);
legend('loop-legend', LOOP);

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const key in attrs) node.setAttribute(key, attrs[key]);
  return node;
}

function draw(id, series, fixedMax) {
  const svg = document.getElementById(id);
  svg.replaceChildren();
  const W = 900, H = 240, L = 40, B = 20;
  const pts = state.points;
  const t0 = pts.length ? pts[0].t : 0, t1 = pts.length ? pts[pts.length - 1].t : 1;
  let max = fixedMax || 0;
  if (!fixedMax) for (const p of pts) for (const [key] of series) max = Math.max(max, p[key]);
  if (max <= 0) max = 1;
  const x = (t) => L + (t1 === t0 ? (W - L) / 2 : ((t - t0) / (t1 - t0)) * (W - L - 4));
  const y = (v) => H - B - (Math.max(0, v) / max) * (H - B - 8);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(el('line', { x1: L, x2: W, y1: y(v), y2: y(v), stroke: '#eceff3' }));
    const label = el('text', { x: 2, y: y(v) + 4 });
    label.textContent = v >= 10 ? v.toFixed(0) : v.toFixed(2);
    svg.append(label);
  }
  if (pts.length) {
    const label = (t) => (t1 - t0 > 6 * 3600 * 1000 ? new Date(t).toLocaleString() : new Date(t).toLocaleTimeString());
    const left = el('text', { x: L, y: H - 4 }); left.textContent = label(t0); svg.append(left);
    const right = el('text', { x: W, y: H - 4, 'text-anchor': 'end' }); right.textContent = label(t1); svg.append(right);
  }
  for (const [key, color] of series) {
    const line = el('polyline', { fill: 'none', stroke: color, 'stroke-width': 1.6, 'data-series': key, 'data-count': pts.length,
      points: pts.map((p) => x(p.t).toFixed(1) + ',' + y(p[key]).toFixed(1)).join(' ') });
    svg.append(line);
    if (pts.length) {
      const lastPoint = pts[pts.length - 1];
      svg.append(el('circle', { cx: x(lastPoint.t), cy: y(lastPoint[key]), r: 2.5, fill: color, 'data-series': key }));
    }
  }
}

function render(text) {
  draw('cpu', CPU, 100);
  draw('loop', LOOP);
  document.getElementById('status').textContent = text;
  document.body.dataset.window = state.window;
  document.body.dataset.points = String(state.points.length);
}

async function show(window) {
  state.window = window;
  for (const b of document.querySelectorAll('button[data-window]')) b.setAttribute('aria-pressed', String(b.dataset.window === window));
  if (window === 'live') {
    const reply = await (await fetch('/api/live')).json();
    if (state.window !== 'live') return;
    state.points = reply.points;
    render('live: ' + state.points.length + ' samples, updated every second');
  } else {
    const reply = await (await fetch('/api/range?window=' + window)).json();
    if (state.window !== window) return;
    state.points = reply.points;
    const levels = [...new Set(reply.plan.filter((s) => s.source === 'rollup').map((s) => s.bucketMs / 1000 + ' s'))];
    render(window + ': ' + reply.points.length + ' buckets of ' + reply.bucketMs / 1000 + ' s (avg), from rollups ' + (levels.join(', ') || 'none') + ' and raw edges');
  }
}

for (const b of document.querySelectorAll('button[data-window]')) b.addEventListener('click', () => show(b.dataset.window));

const events = new EventSource('/events');
events.onmessage = (event) => {
  if (state.window !== 'live') return;
  state.points.push(JSON.parse(event.data));
  const cutoff = Date.now() - 5 * 60 * 1000;
  while (state.points.length && state.points[0].t < cutoff) state.points.shift();
  render('live: ' + state.points.length + ' samples, updated every second');
};
show('live');
</script>
</body>
</html>
`;
