/* Where the page reaches into Gradio's own markup (ae/web/gradio_fixes.py holds the server's workarounds).
 *
 * aeGradio.setEnabled(ids, enabled): the inputs and buttons of the components with these elem_ids, enabled or not,
 * as a page-side event needs them (the Train tab locks a run's settings while the page trains; Gradio would do it
 * with a server round trip). It relies on Gradio rendering a component's <input>s and <button>s inside the block
 * that carries its elem_id (a gr.Button is the <button> itself); the browser test of the Train tab in the page
 * checks that a run disables them.
 *
 * A gr.Radio is a <fieldset> whose visible label is a <span>, not a <legend>: a screen reader announces the
 * buttons ("Gaussian", "Masking") but not what they choose ("Noise type"). Each such group is given its label's
 * text as its name, now and whenever Gradio renders one anew.
 */
(function () {
  "use strict";
  window.aeGradio = {
    setEnabled(ids, enabled) {
      for (const id of ids)
        for (const control of document.querySelectorAll(`#${id} input, #${id} button, button#${id}`)) control.disabled = !enabled;
    },
  };
  function nameGroups(root) {
    for (const group of root.querySelectorAll("fieldset:not([aria-label])")) {
      const label = group.querySelector(':scope > [data-testid="block-info"]');
      if (label && label.textContent.trim()) group.setAttribute("aria-label", label.textContent.trim());
    }
  }
  // Only what was added is looked at: the page's panels change many times a second while a pen moves.
  new MutationObserver((records) => {
    for (const record of records)
      for (const node of record.addedNodes) if (node.nodeType === Node.ELEMENT_NODE) nameGroups(node.parentElement || node);
  }).observe(document.documentElement, {childList: true, subtree: true});
  nameGroups(document);
})();
