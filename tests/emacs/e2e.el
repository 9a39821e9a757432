;;; e2e.el --- drive eglot headless against `uwsgi-lint lsp'  -*- lexical-binding: t -*-
;;
;; Usage: emacs --batch -l SNIPPET.el -l e2e.el ROOT FILE OUT
;; SNIPPET.el is the Emacs snippet of docs/editors.md, as written there.
;; Opens FILE of the project ROOT, lets the snippet's mode and hook start
;; eglot, waits for the server's diagnostics and writes one line per
;; diagnostic to OUT: "LINE CODE" (1-based line).

(require 'eglot)
(require 'project)

(let* ((root (file-name-as-directory (nth 0 command-line-args-left)))
       (file (nth 1 command-line-args-left))
       (out (nth 2 command-line-args-left))
       ;; A hang is a failure, not a wait.
       (deadline (+ (float-time) 120)))
  (setq command-line-args-left nil)
  ;; The project is ROOT (no version control needed for the test).
  (add-hook 'project-find-functions (lambda (_dir) (cons 'transient root)))
  (find-file file)
  (unless (eq major-mode 'uwsgi-ini-mode)
    (error "the snippet's mode is not on: %s" major-mode))
  ;; `eglot-ensure' connects after the next command; batch Emacs runs none.
  (run-hooks 'post-command-hook)
  (while (and (not (eglot-current-server)) (< (float-time) deadline))
    (accept-process-output nil 0.1))
  (unless (eglot-current-server) (error "eglot did not connect"))
  (let ((diags nil))
    (while (and (null diags) (< (float-time) deadline))
      (accept-process-output nil 0.1)
      (setq diags (or (bound-and-true-p eglot--diagnostics)
                      (and (fboundp 'flymake-diagnostics) (flymake-diagnostics)))))
    (unless diags (error "no diagnostics were published"))
    (with-temp-file out
      (dolist (d diags)
        (let ((text (flymake-diagnostic-text d))
              (line (with-current-buffer (flymake-diagnostic-buffer d)
                      (line-number-at-pos (flymake-diagnostic-beg d)))))
          (when (string-match "\\[\\(UW[0-9]+\\)\\]" text)
            (insert (format "%d %s\n" line (match-string 1 text))))))))
  (eglot-shutdown (eglot-current-server))
  (kill-emacs 0))
