/* Behaviour every page shares, as a file: the Content-Security-Policy allows no inline script
 * and no inline event handler (onclick=, onsubmit=).
 *
 * - <form data-confirm="question">: asks before submitting; Cancel keeps the page as it is.
 * - <button data-print>: prints the page.
 */
(function () {
  'use strict';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-print]');
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
