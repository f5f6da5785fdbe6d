/* Small SVG line charts, drawn in the page: the Draw tab's noise sweep, the Train tab's live curves and the
 * code-size lesson's error against code size.
 *
 * Plain SVG because the page repaints them on every update (a Vega plot took 150-400 ms a redraw); every point
 * carries its value as a tooltip. The server draws the same charts for the runs it trains (ae/web/charts.py).
 */
(function (root) {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const [WIDTH, HEIGHT] = [560, 240], [LEFT, RIGHT, TOP, BOTTOM] = [56, 12, 16, 40];
  const RULE = "#777", INK = "#555";

  function node(name, attributes, ...children) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    element.append(...children);
    return element;
  }
  const tip = (words) => node("title", {}, words);

  /* The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `value`: charts.nice_ceiling. */
  function niceCeiling(value) {
    const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-6)));
    return [1, 2, 2.5, 5, 10].map((s) => s * power).find((v) => v >= value);
  }

  /* x's place across a chart from xStart to xEnd (log: on a logarithmic axis). */
  function xPlace(x, xStart, xEnd, log) {
    const scale = log ? Math.log10 : (v) => v;
    return LEFT + (scale(x) - scale(xStart)) / (scale(xEnd) - scale(xStart)) * (WIDTH - LEFT - RIGHT);
  }

  /* Lines ({label, colour, xs, ys, tips, style}) over x from xStart to xEnd and y from 0 up to a tidy number above
   * every value, with dashed rules ({at, tip, vertical}) and a legend (`legendRule` names the rules there):
   * [legend, svg]. A line's style: "line" (joined dots, the default), "dots" alone, or "rings" (larger, hollow: a
   * mark on the chart). With `log`, both axes are logarithmic (x from xStart, y between the powers of ten around
   * the values) and `xTicks` lists the ticks' values. */
  function lineChart({lines, xStart = 0, xEnd, xLabel, yLabel, rules = [], legendRule = null, xTicks = 6, log = false}) {
    const values = lines.flatMap((line) => line.ys).concat(rules.filter((r) => !r.vertical).map((r) => r.at));
    const scale = log ? Math.log10 : (v) => v;
    const [yBottom, yTop] = log ? [10 ** Math.floor(Math.log10(Math.min(...values))), 10 ** Math.ceil(Math.log10(Math.max(...values)))]
      : [0, niceCeiling(Math.max(...values, 1e-6))];
    const xOf = (x) => xPlace(x, xStart, xEnd, log);
    const yOf = (y) => HEIGHT - BOTTOM - (scale(Math.min(Math.max(y, yBottom), yTop)) - scale(yBottom))
      / (scale(yTop) - scale(yBottom)) * (HEIGHT - TOP - BOTTOM);
    const svg = node("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": `${yLabel} against ${xLabel}`,
                             "data-x-start": xStart, "data-x-end": xEnd, "data-log": log});
    const group = svg.appendChild(node("g", {"font-size": 14, fill: INK}));
    const yTicks = log ? Array.from({length: Math.round(Math.log10(yTop / yBottom)) + 1}, (_, k) => +(yBottom * 10 ** k).toPrecision(6))
      : Array.from({length: 6}, (_, k) => +(yTop * k / 5).toPrecision(6));
    for (const v of yTicks) {
      const y = yOf(v).toFixed(1);
      group.append(node("line", {x1: LEFT, y1: y, x2: WIDTH - RIGHT, y2: y, stroke: "#ddd"}),
                   node("text", {x: LEFT - 6, y: (+y + 4).toFixed(1), "text-anchor": "end"}, String(v)));
    }
    const xValues = Array.isArray(xTicks) ? xTicks
      : Array.from({length: xTicks}, (_, k) => +(xStart + (xEnd - xStart) * k / (xTicks - 1)).toPrecision(6));
    for (const x of xValues)
      group.append(node("text", {x: xOf(x).toFixed(1), y: HEIGHT - BOTTOM + 18, "text-anchor": "middle"}, String(x)));
    for (const rule of rules) {
      const [x1, y1, x2, y2] = rule.vertical ? [xOf(rule.at), TOP, xOf(rule.at), HEIGHT - BOTTOM]
        : [LEFT, yOf(rule.at), WIDTH - RIGHT, yOf(rule.at)];
      group.append(node("line", {x1: x1.toFixed(1), y1: y1.toFixed(1), x2: x2.toFixed(1), y2: y2.toFixed(1), stroke: RULE,
                                 "stroke-dasharray": "4 3", "data-rule": rule.vertical ? "vertical" : "across"}, tip(rule.tip)));
    }
    for (const line of lines) {
      const points = line.xs.map((x, i) => [xOf(x).toFixed(1), yOf(line.ys[i]).toFixed(1)]);
      if ((line.style ?? "line") === "line")
        group.append(node("polyline", {fill: "none", stroke: line.colour, "stroke-width": 2,
                                       points: points.map((p) => p.join(",")).join(" ")}));
      const dot = line.style === "rings" ? {r: 7, fill: "none", stroke: line.colour, "stroke-width": 2.5}
        : {r: line.style === "dots" ? 5 : 3, fill: line.colour};
      points.forEach(([x, y], i) => group.append(node("circle", {cx: x, cy: y, ...dot}, tip(line.tips[i]))));
    }
    svg.append(node("text", {x: (LEFT + WIDTH - RIGHT) / 2, y: HEIGHT - 4, "text-anchor": "middle", "font-size": 14, fill: INK}, xLabel),
               node("text", {transform: `translate(14 ${(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)`, "text-anchor": "middle",
                             "font-size": 14, fill: INK}, yLabel));
    const legend = document.createElement("div");
    legend.className = "chart-legend";
    for (const [name, colour] of [...lines.map((line) => [line.label, line.colour]), ...(legendRule ? [[legendRule, RULE]] : [])]) {
      const item = legend.appendChild(document.createElement("span")), swatch = document.createElement("i");
      swatch.style.background = colour;
      item.append(swatch, name);
    }
    return [legend, svg];
  }

  /* A chart's first vertical rule moved to x = `at`, with a new tip: what a slider step changes in a chart, without
   * drawing it anew. */
  function moveRule(svg, at, words) {
    const rule = svg.querySelector('line[data-rule="vertical"]'), data = svg.dataset;
    const x = xPlace(at, Number(data.xStart), Number(data.xEnd), data.log === "true").toFixed(1);
    rule.setAttribute("x1", x);
    rule.setAttribute("x2", x);
    rule.querySelector("title").textContent = words;
  }

  /* A chart's place before it has anything to show: what will appear there, and how to get it. */
  function placeholder(words) {
    const note = document.createElement("p");
    note.className = "placeholder";
    note.textContent = words;
    return note;
  }

  root.aeCharts = {lineChart, moveRule, placeholder, niceCeiling};
})(window);
