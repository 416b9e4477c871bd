// Files dragged onto the reply form go to its file input, beside those already chosen; the
// chosen files are listed by name (as text). A file dropped elsewhere on the page would make
// the browser open it in place of the console, and the reply being written would be lost:
// such a drop is refused instead.
(function () {
  "use strict";
  const input = document.querySelector(".reply-files input[type=file]");
  if (!input || typeof DataTransfer === "undefined") return;
  const form = input.form;
  const chosen = document.getElementById("reply-files-chosen");
  const carriesFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");

  function show() {
    chosen.replaceChildren(
      ...Array.from(input.files).map((file) => {
        const item = document.createElement("li");
        item.textContent = `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
        return item;
      })
    );
  }

  ["dragenter", "dragover"].forEach((type) =>
    form.addEventListener(type, (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("is-dropping");
    })
  );
  form.addEventListener("dragleave", (event) => {
    if (!form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
  });
  form.addEventListener("drop", (event) => {
    form.classList.remove("is-dropping");
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.stopPropagation();
    const files = new DataTransfer();
    for (const file of input.files) files.items.add(file);
    for (const file of event.dataTransfer.files) files.items.add(file);
    input.files = files.files;
    show();
  });
  input.addEventListener("change", show);
  ["dragover", "drop"].forEach((type) =>
    window.addEventListener(type, (event) => {
      if (carriesFiles(event) && !form.contains(event.target)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      }
    })
  );
})();
