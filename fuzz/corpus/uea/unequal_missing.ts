@problemName Ragged
@missing true
@univariate true
@equalLength false
@classLabel true a b c
@data
1,?,3,4:a

5,6:b
-1e-3,2E2,0:c
