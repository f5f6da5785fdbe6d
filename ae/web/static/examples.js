/* The example strip (gr.HTML's js_on_load): a click, or Enter on a focused button, hands its digit to the pad,
 * as an image decoded ahead so that the pad draws it at once. */
const images = new Map([...element.querySelectorAll("button[data-paper]")].map((button) => {
  const image = new Image();
  image.src = button.dataset.paper;
  return [button, image];
}));
element.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-paper]");
  if (button) document.dispatchEvent(new CustomEvent(props.example_event, {detail: images.get(button)}));
});
