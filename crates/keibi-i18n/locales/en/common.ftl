# Shared words: durations, lists, rates, hours. English is the contract's language:
# these must render exactly as keibi's English texts always have.

nothing = {""}

span-under-second = under a second
span-one-second = 1 second
span-seconds = { $s } seconds
span-minutes = { $m } minutes
span-hours = { $h } h { $m } min
span-days = { $d } days { $h } h

list-sep = {", "}
list-unknown = unknown
list-and = { $rest } and { $last }
list-more = { $shown } and { $more } more
list-not-all = { $list } (and more not listed)

# A rate after a span, with its leading comma: "(8 minutes, about 3 a second)".
rate-second = {", "}about { $n } a second
rate-minute = {", "}about { $n } a minute
rate-hour = {", "}about { $n } an hour

hours-range = { $from }-{ $to }

still-going = It was still going when the logs end ({ $end }): check whether it continues.
still-last-failure = The last failure was at { $last }, { $gap } before the logs of this instance end ({ $end }).
still-last-attempt = The last attempt was at { $last }, { $gap } before the logs of this instance end ({ $end }).
still-last-connection = The last connection was at { $last }, { $gap } before the logs of this instance end ({ $end }).
