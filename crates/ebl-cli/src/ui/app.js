// ebl ui: reads a dropped or chosen file into the verify form and submits it to this wallet, which
// checks it offline; and keeps each signing form's summary naming the party its select has chosen. The
// only script of the app; every page works without it but the drop zone (a summary then names the
// select's first party, which is the one chosen until another is).
(function () {
  for (const form of document.querySelectorAll('form.act')) {
    const select = form.querySelector("select[name='to'], select[name='bank']");
    const chosen = form.querySelector('.summary .chosen');
    if (!select || !chosen) continue;
    select.addEventListener('change', function () {
      const option = select.options[select.selectedIndex];
      if (option) chosen.textContent = option.text;
    });
  }
})();
(function () {
  const form = document.getElementById('verify-form');
  const zone = document.getElementById('drop');
  const input = document.getElementById('file');
  const text = document.getElementById('content');
  if (!form || !zone || !input || !text) return;
  function take(file) {
    file.text().then(function (content) {
      text.value = content;
      form.submit();
    });
  }
  input.addEventListener('change', function () {
    if (input.files.length > 0) take(input.files[0]);
  });
  zone.addEventListener('dragover', function (e) {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', function () {
    zone.classList.remove('over');
  });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files.length > 0) take(e.dataTransfer.files[0]);
  });
})();
