/* Workarounds for Gradio's own markup, for screen readers (ae/web/gradio_fixes.py holds the server's).
 *
 * A gr.Radio is a <fieldset> whose visible label is a <span>, not a <legend>: a screen reader announces the
 * buttons ("Gaussian", "Masking") but not what they choose ("Noise type"). Each such group is given its label's
 * text as its name, now and whenever Gradio renders one anew.
 */
(function () {
  "use strict";
  function nameGroups() {
    for (const group of document.querySelectorAll("fieldset:not([aria-label])")) {
      const label = group.querySelector(':scope > [data-testid="block-info"]');
      if (label && label.textContent.trim()) group.setAttribute("aria-label", label.textContent.trim());
    }
  }
  new MutationObserver(nameGroups).observe(document.documentElement, {childList: true, subtree: true});
  nameGroups();
})();
