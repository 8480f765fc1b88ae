# Capistrano 3 tasks for linkcheck: repair the links a deploy writes (Capistrano writes absolute
# host paths: `current -> /srv/lighty/var/www/rails/releases/...`, `log -> .../shared/log`), then
# check them as the chroot jail sees them, and fail the deploy before the restart when they are
# broken.
#
# Install: copy this file to lib/capistrano/tasks/ (the Capfile Capistrano generates loads
# lib/capistrano/tasks/*.rake), then in config/deploy.rb:
#
#   set :linkcheck_root, '/srv/lighty'          # the jail root: the directory the server sees as /
#
# and hook the app's restart after deploy:publishing, as Capistrano 3 recommends:
#
#   after 'deploy:publishing', 'deploy:restart'
#
# Flow (deploy and deploy:rollback alike): deploy:symlink:release switches `current`, then
# linkcheck:repair rewrites the absolute links of the tree to relative ones (--fix), then
# linkcheck:check audits what the jail will serve: `current`, shared/ and the live release. Both
# run inside deploy:publishing, so before any restart hooked on deploy:publishing or later. A
# failing check stops the deploy: the restart does not run; `cap <stage> deploy:rollback` puts the
# previous release back.
#
# Variables (all optional but linkcheck_root):
#   :linkcheck_bin          command on the server (may be          'linkcheck'
#                           'sudo -n /usr/local/bin/linkcheck')
#   :linkcheck_root         the jail root                          (required)
#   :linkcheck_path         tree to repair and check               deploy_to
#   :linkcheck_roles        servers to run on                      :all (release roles)
#   :linkcheck_journal      --journal for the repair (nil: none)   shared/linkcheck.journal
#   :linkcheck_wait         --wait seconds for the lock (nil: 0)   60
#   :linkcheck_fix_flags    extra flags of the repair              %w[--quiet]
#   :linkcheck_check_flags  extra flags of the check               %w[--quiet]
#                           (add --preset deploy where this linkcheck has it)

require 'shellwords'

# Defaults as Capistrano plugins set them: before config/deploy.rb, which may override any.
namespace :load do
  task :defaults do
    set_if_empty :linkcheck_bin, 'linkcheck'
    set_if_empty :linkcheck_path, -> { deploy_to }
    set_if_empty :linkcheck_roles, :all
    set_if_empty :linkcheck_journal, -> { shared_path.join('linkcheck.journal').to_s }
    set_if_empty :linkcheck_wait, 60
    set_if_empty :linkcheck_fix_flags, %w[--quiet]
    set_if_empty :linkcheck_check_flags, %w[--quiet]
  end
end

module LinkcheckTasks
  module_function

  def root
    value = fetch(:linkcheck_root)
    raise ArgumentError, 'linkcheck: set :linkcheck_root to the jail root (the directory the chrooted server sees as /)' if value.nil? || value.to_s.empty?

    value.to_s
  end

  # SSHKit joins arguments with blanks and hands the line to a shell: quote each one.
  def command(*args)
    [fetch(:linkcheck_bin).to_s, *args.flatten.compact.map { |a| a.to_s.shellescape }].join(' ')
  end
end

namespace :linkcheck do
  desc 'Rewrite the absolute and jail-breaking links of the deploy tree (linkcheck --fix)'
  task :repair do
    on release_roles(fetch(:linkcheck_roles)) do
      journal = fetch(:linkcheck_journal)
      wait = fetch(:linkcheck_wait)
      # --fail-on never: links the fixer must leave alone are the check's business; the repair
      # fails the deploy only when it could not run (bad option, lock still busy after --wait).
      execute LinkcheckTasks.command(
        fetch(:linkcheck_path), '--root', LinkcheckTasks.root, '--fix', '--fail-on', 'never',
        journal ? ['--journal', journal] : [],
        wait ? ['--wait', wait] : [],
        fetch(:linkcheck_fix_flags)
      )
    end
  end

  desc 'Audit the live tree as the jail sees it; fail the deploy on errors'
  task :check do
    on release_roles(fetch(:linkcheck_roles)) do
      path = fetch(:linkcheck_path).to_s
      # Only what the jail serves: older releases (a failed deploy's among them) must not fail
      # every later deploy. Under deploy_to, skip every release but the live one.
      # Run alone (`cap production linkcheck:check`) there is no release_path: ask `current`.
      live = fetch(:release_path) ? release_path.basename.to_s : capture(:basename, capture(:readlink, '-f', current_path))
      excludes = path == deploy_to.to_s ? ['--exclude', "releases/!(#{live})"] : []
      execute LinkcheckTasks.command(path, '--root', LinkcheckTasks.root, excludes, fetch(:linkcheck_check_flags))
    end
  end
end

# In declaration order: repair, then check, right after `current` is switched.
after 'deploy:symlink:release', 'linkcheck:repair'
after 'deploy:symlink:release', 'linkcheck:check'
