"""The command-line programs, one module each, runnable as ``python -m babyai.commands.NAME`` (scripts/NAME.py
is a three-line wrapper of the same module). Argument parsing lives here; the library below takes typed
arguments. Errors reach the user as one ``error:`` line through ``babyai.cli.run``.

    make_agent_demos  show_demos  import_demos           demonstrations (babyai.demos)
    export_minari  import_minari                         Minari datasets (babyai.demos.minari_io)
    train_tc  train_il                                   training (babyai.train; flags in train.py)
    make_testing_levels  evaluate  evaluate_levels       evaluation (babyai.evaluate; shared flags in common.py)
    evaluate_fads  evaluate_precrime  evaluate_steering
    visualize  plot_logs
"""
