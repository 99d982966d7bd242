// ebl ui: reads a dropped or chosen file into the verify form and submits it to this wallet, which
// checks it offline. The only script of the app; every page works without it but this drop zone.
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
