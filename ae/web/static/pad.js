/* The drawing pad (gr.HTML's js_on_load: `element`, `props` and `trigger` are Gradio's).
 *
 * A plain 2-D canvas drawn with pointer events, so a mouse, a pen and a finger all work. After every change
 * the pad tells the page's Draw tab (static/draw.js) through a DOM event, `props.drawing_event`, whose detail
 * holds the canvas: the page reads the pixels itself, with no request. While the pen moves it tells at most
 * once per animation frame. The component's value, the drawing as a PNG data URL, is what the server sees
 * (the Latent tab, Export, the Draw tab's fallback); it is set when a stroke ends (once the browser is idle),
 * and by `detail.sync()` whenever the page needs it sooner. The Draw tab mounts once its files have loaded,
 * perhaps after a first stroke, and then asks for the drawing again (`props.drawing_wanted_event`). An example digit arrives as the DOM event `props.example_event`.
 */
const canvas = element.querySelector("canvas");
const context = canvas.getContext("2d", {willReadFrequently: true});
const size = element.querySelector("input.size");
const strokes = [];  // what is on the canvas, in order: {tool, width, points} or {image}
let current = null, tool = "brush", frame = null;

function paint(stroke) {
  if (stroke.image) { context.imageSmoothingEnabled = false;
                      context.drawImage(stroke.image, 0, 0, canvas.width, canvas.height); return; }
  context.strokeStyle = context.fillStyle = stroke.tool === "eraser" ? "white" : "black";
  context.lineWidth = stroke.width; context.lineCap = context.lineJoin = "round";
  const [x0, y0] = stroke.points[0];
  context.beginPath(); context.arc(x0, y0, stroke.width / 2, 0, 2 * Math.PI); context.fill();
  context.beginPath(); context.moveTo(x0, y0);
  for (const [x, y] of stroke.points.slice(1)) context.lineTo(x, y);
  context.stroke();
}
function repaint() {
  context.fillStyle = "white"; context.fillRect(0, 0, canvas.width, canvas.height);
  strokes.forEach(paint);
}
function sync() {
  const value = strokes.length ? canvas.toDataURL("image/png") : null;
  if (props.value !== value) props.value = value;
}
/* The part of the canvas the strokes can have touched, {x, y, width, height}: each point's reach (half the pen,
 * and the edge's anti-aliasing) around it; an example, the whole canvas. Outside it the canvas is white, so the
 * Draw tab reads only this (a phone's every update read the whole canvas, a third of its time). */
const EDGE = 2;
function inkBox() {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const stroke of strokes) {
    if (stroke.image) return {x: 0, y: 0, width: canvas.width, height: canvas.height};
    const reach = stroke.width / 2 + EDGE;
    for (const [x, y] of stroke.points) {
      x0 = Math.min(x0, x - reach); y0 = Math.min(y0, y - reach); x1 = Math.max(x1, x + reach); y1 = Math.max(y1, y + reach);
    }
  }
  [x0, y0] = [Math.max(0, Math.floor(x0)), Math.max(0, Math.floor(y0))];
  [x1, y1] = [Math.min(canvas.width, Math.ceil(x1)), Math.min(canvas.height, Math.ceil(y1))];
  return x1 > x0 && y1 > y0 ? {x: x0, y: y0, width: x1 - x0, height: y1 - y0} : null;
}
// The page's Draw tab reads the canvas first; the PNG for the server is made once the frame is painted.
const whenIdle = window.requestIdleCallback || ((job) => setTimeout(job, 50));
function tell(final) {
  document.dispatchEvent(new CustomEvent(props.drawing_event,
    {detail: {canvas, context, empty: !strokes.length, final, sync, inkBox: strokes.length ? inkBox() : null}}));
  if (final) whenIdle(sync);
}
function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}
canvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  current = {tool, width: Number(size.value), points: [point(event)]};
  strokes.push(current);
  paint(current);
  tell(false);
});
canvas.addEventListener("pointermove", (event) => {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of (events.length ? events : [event])) current.points.push(point(each));
  const n = current.points.length;
  paint({...current, points: current.points.slice(Math.max(0, n - events.length - 1))});
  if (frame === null) frame = requestAnimationFrame(() => { frame = null; if (current) tell(false); });
});
// Drawn again whole at the end of a stroke: the canvas is then exactly what an undo replays.
const finish = () => { if (current) { current = null; repaint(); tell(true); } };
canvas.addEventListener("pointerup", finish);
canvas.addEventListener("pointercancel", finish);
element.querySelectorAll("[data-tool]").forEach((button) => button.addEventListener("click", () => {
  tool = button.dataset.tool;
  element.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
}));
element.querySelector("[data-action=undo]").addEventListener("click", () => {
  if (!strokes.length) return;
  strokes.pop(); repaint(); tell(true);
});
element.querySelector("[data-action=clear]").addEventListener("click", () => {
  strokes.length = 0; repaint(); tell(true);
});
document.addEventListener(props.drawing_wanted_event, () => { if (strokes.length) tell(true); });
document.addEventListener(props.example_event, (event) => {  // an example digit: an image, perhaps still loading
  const image = event.detail, show = () => { strokes.length = 0; strokes.push({image}); repaint(); tell(true); };
  if (image.complete) show(); else image.addEventListener("load", show, {once: true});
});
repaint();
