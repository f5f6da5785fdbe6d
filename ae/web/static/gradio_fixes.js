/* Workarounds for Gradio's own markup, for screen readers (ae/web/gradio_fixes.py holds the server's).
 *
 * A gr.Radio is a <fieldset> whose visible label is a <span>, not a <legend>: a screen reader announces the
 * buttons ("Gaussian", "Masking") but not what they choose ("Noise type"). Each such group is given its label's
 * text as its name, now and whenever Gradio renders one anew.
 */
(function () {
  "use strict";
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
