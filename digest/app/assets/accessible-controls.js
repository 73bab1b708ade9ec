/* Dash 4's dcc.Dropdown puts a focusable input marked aria-hidden in front of its button (axe:
   aria-hidden-focus) and names the button by its value alone; dcc.Upload's file input has no
   name. Make each dropdown's button its own tab stop, named by its <label> as well as its value,
   and name the upload's input after its button. Reapplied (at most once a frame) whenever the page changes; React leaves
   the attributes alone because their values in its own tree do not change. */
(function () {
  function mend() {
    document.querySelectorAll(".dash-dropdown-wrapper").forEach(function (wrapper) {
      var proxy = wrapper.querySelector(".dash-dropdown-focus-target");
      var button = wrapper.querySelector("button.dash-dropdown");
      if (!proxy || !button) {
        return;
      }
      if (proxy.getAttribute("tabindex") !== "-1") {
        proxy.setAttribute("tabindex", "-1");
      }
      if (button.getAttribute("tabindex") !== "0") {
        button.setAttribute("tabindex", "0");
      }
      var label = button.id && document.querySelector('label[for="' + button.id + '"]');
      if (label) {
        if (!label.id) {
          label.id = button.id + "-label";
        }
        var names = (button.getAttribute("aria-labelledby") || "").split(" ");
        if (names.indexOf(label.id) < 0) {
          button.setAttribute("aria-labelledby", [label.id].concat(names).join(" ").trim());
        }
      }
    });
    document.querySelectorAll(".digest-upload input[type=file]").forEach(function (input) {
      var button = input.parentElement && input.parentElement.querySelector("button");
      if (button && !input.getAttribute("aria-label")) {
        input.setAttribute("aria-label", button.textContent);
      }
    });
  }
  var queued = false;
  function soon() {
    // Once per frame at most: a chart's hover changes the page many times a second.
    if (!queued) {
      queued = true;
      window.requestAnimationFrame(function () {
        queued = false;
        mend();
      });
    }
  }
  new MutationObserver(soon).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["tabindex", "aria-labelledby", "aria-label"],
  });
})();
