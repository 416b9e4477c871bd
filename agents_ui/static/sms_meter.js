/* How many SMS a reply will cost, shown while the agent types (same rules as
   telephony/sms_text.py: GSM-7 160/153 characters, extension characters count twice;
   otherwise UCS-2 70/67 UTF-16 units). */
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function segments(text) {
    var units = 0;
    var gsm = true;
    for (var i = 0; i < text.length; i += 1) {
      var c = text.charAt(i);
      if (BASIC.indexOf(c) >= 0) { units += 1; }
      else if (EXTENDED.indexOf(c) >= 0) { units += 2; }
      else { gsm = false; break; }
    }
    if (!gsm) { units = text.length; }  // UTF-16 code units, as UCS-2 counts them
    var single = gsm ? 160 : 70;
    var multi = gsm ? 153 : 67;
    var count = units <= single ? 1 : Math.ceil(units / multi);
    return { gsm: gsm, units: units, count: Math.max(count, 1) };
  }

  document.querySelectorAll("[data-sms-meter]").forEach(function (meter) {
    var field = document.getElementById(meter.getAttribute("data-sms-meter"));
    var out = meter.querySelector("[data-sms-count]");
    if (!field || !out) { return; }
    function update() {
      var s = segments(field.value);
      var label = meter.getAttribute(s.gsm ? "data-label-gsm" : "data-label-ucs");
      out.textContent = label.replace("{chars}", String(s.units))
        .replace("{segments}", String(s.count));
    }
    field.addEventListener("input", update);
    update();
  });
})();
